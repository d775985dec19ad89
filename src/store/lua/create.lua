-- create_instance. ARGV[1] shard, ARGV[2] number of shards, ARGV[3..] field/value pairs.
-- Answers {'ok', id}; the id encodes the shard (id = seq * shards + shard).
local seq = redis.call('INCR', base .. 'seq')
local id = string.format('%d', seq * tonumber(ARGV[2]) + tonumber(ARGV[1]))
local key = inst_key(id)
if redis.call('EXISTS', key) == 1 then
  -- The counter went backwards (a foreign writer): never merge into someone else's hash.
  return {'dup', id}
end
hset_pairs(key, ARGV, 3, #ARGV)
reindex(id, 'ZADD')
return {'ok', id}
