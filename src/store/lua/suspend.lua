-- set_suspended. ARGV[1] id, ARGV[2] '1' to suspend, '0' to activate.
-- Answers {'ok', packed hash (`packed_hash`)}, {'nf'}, {'sus'} (already suspended) or {'act'} (already active).
local id = ARGV[1]
local s = open_state(id)
if not s then
  return {'nf'}
end
local want = 'active'
if ARGV[2] == '1' then
  want = 'suspended'
end
if s == want then
  if want == 'suspended' then
    return {'sus'}
  end
  return {'act'}
end
local old = indexes_of(id)
redis.call('HSET', inst_key(id), 's', want)
move_entries(id, old, indexes_of(id))
each_open_task(id, function(key)
  if want == 'suspended' then
    redis.call('HSET', key, 's', '1')
  else
    redis.call('HDEL', key, 's')
  end
end)
return {'ok', packed_hash(inst_key(id))}
