-- close_instances, for the ids of one shard (their open tasks end too). ARGV[1] 'check' (validate only) or 'apply',
-- ARGV[2] closed state, ARGV[3] end time, ARGV[4] '1' when there is a delete reason,
-- ARGV[5] the reason, ARGV[6..] ids. Checks every id before it writes anything.
-- Answers {'ok'} or {'nf', first id that is unknown or closed}.
for i = 6, #ARGV do
  if not open_state(ARGV[i]) then
    return {'nf', ARGV[i]}
  end
end
if ARGV[1] == 'check' then
  return {'ok'}
end
for i = 6, #ARGV do
  local id = ARGV[i]
  local key = inst_key(id)
  local old = indexes_of(id)
  redis.call('HSET', key, 's', ARGV[2], 'et', ARGV[3])
  if ARGV[4] == '1' then
    redis.call('HSET', key, 'dr', ARGV[5])
  else
    redis.call('HDEL', key, 'dr')
  end
  redis.call('HDEL', key, 'a')
  set_packed(key, {x = false})
  move_entries(id, old, indexes_of(id))
  close_history(id, ARGV[3])
  -- Its open tasks end with it.
  each_open_task(id, function(tkey)
    redis.call('HSET', tkey, 'et', ARGV[3])
    if ARGV[4] == '1' then
      redis.call('HSET', tkey, 'dr', ARGV[5])
    end
  end)
end
return {'ok'}
