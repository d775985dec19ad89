-- create_instance. ARGV[1] the shard's first id, ARGV[2] how many ids a shard has, ARGV[3] n,
-- ARGV[4..3+n] the instance's field/value arguments, then its activity records as
-- `write_history` reads them, then its tasks as `write_tasks` reads them. Answers
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
local n = tonumber(ARGV[3])
inst_write(key, ARGV, 4, 3 + n, 1, 0)
index_new(id, ARGV, 4, 3 + n)
local next_arg = write_history(id, ARGV, 4 + n)
local tasks = write_tasks(id, ARGV, next_arg, ARGV[1], ARGV[2])
if not tasks then
  return {'full'}
end
local out = {'ok', id}
for _, t in ipairs(tasks) do
  out[#out + 1] = t
end
return out
