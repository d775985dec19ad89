-- create_instance. ARGV[1] the shard's first id, ARGV[2] how many ids a shard has, ARGV[3..7]
-- what the indexes depend on: state, definition key, tenant ('' the default), '1' and the
-- business key or '0' and '', ARGV[8] n, ARGV[9..8+n] the instance's hash as field/value
-- arguments, written as they are (the packed fields already in 'z'), then its activity
-- records as `write_history` reads them, then its tasks as `write_tasks` reads them. Answers
-- {'ok', id, task ids...}, or {'full'} when the shard has used all its ids.
-- The id encodes the shard (id = first + seq); all ids have the same length.
local id = alloc_id(ARGV[1], ARGV[2])
if not id then
  return {'full'}
end
local key = inst_key(id)
if redis.call('EXISTS', key) == 1 then
  -- The counter went backwards (a foreign writer): never merge into someone else's hash.
  return {'dup', id}
end
local n = tonumber(ARGV[8])
hset_pairs(key, ARGV, 9, 8 + n)
local bk = ARGV[6] == '1' and ARGV[7] or nil
for _, suffix in ipairs(instance_indexes(ARGV[3], ARGV[4], bk, ARGV[5])) do
  idx_add(suffix, id)
end
local next_arg = write_history(id, ARGV, 9 + n)
local tasks = write_tasks(id, ARGV, next_arg, ARGV[1], ARGV[2])
if not tasks then
  return {'full'}
end
local out = {'ok', id}
for _, t in ipairs(tasks) do
  out[#out + 1] = t
end
return out
