-- create_instance. ARGV[1] the shard's first id, ARGV[2] how many ids a shard has,
-- ARGV[3..] field/value pairs. Answers {'ok', id}, or {'full'} when the shard has used all
-- its ids. The id encodes the shard (id = first + seq); all ids have the same length.
local seq = redis.call('INCR', base .. 'seq')
if seq >= tonumber(ARGV[2]) then
  return {'full'}
end
-- Lua numbers are doubles: exact up to 2^53, far above the largest id (~2.6e13).
local id = string.format('%d', tonumber(ARGV[1]) + seq)
local key = inst_key(id)
if redis.call('EXISTS', key) == 1 then
  -- The counter went backwards (a foreign writer): never merge into someone else's hash.
  return {'dup', id}
end
hset_pairs(key, ARGV, 3, #ARGV)
reindex(id, 'ZADD')
return {'ok', id}
