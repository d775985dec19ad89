-- migrate_counts, from layouts 2 to 4: moves the index counts of this shard from the fields of
-- the hash 'n' into strings 'n:<index>' (`count_key`), in one atomic step. Answers how many
-- (0 once the hash is gone, so it can run again).
local key = base .. 'n'
if redis.call('TYPE', key).ok ~= 'hash' then
  return 0
end
local h = redis.call('HGETALL', key)
for i = 1, #h, 2 do
  redis.call('SET', count_key(h[i]), h[i + 1])
end
redis.call('DEL', key)
return #h / 2
