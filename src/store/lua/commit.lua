-- commit: one step of a running process. ARGV[1] id, ARGV[2] the revision the engine read,
-- ARGV[3] the shard's first id, ARGV[4] its id span, ARGV[5] n, ARGV[6..5+2n] field/value
-- pairs to set on the instance, ARGV[6+2n] m, then m fields to delete, then activity records
-- as `write_history` reads them, then tasks as `write_tasks` reads them. Checks before it writes: {'nf'} unknown or closed, {'isus'}
-- suspended, {'stale'} the revision moved. Answers {'ok', packed hash (`packed_hash`), task ids...}.
local id = ARGV[1]
local s = open_state(id)
if not s then
  return {'nf'}
end
if s == 'suspended' then
  return {'isus'}
end
local key = inst_key(id)
local rev = redis.call('HGET', key, 'r') or '0'
if rev ~= ARGV[2] then
  return {'stale'}
end
local n = tonumber(ARGV[5])
local m = tonumber(ARGV[6 + 2 * n])
local old = indexes_of(id)
inst_write(key, ARGV, 6, 5 + 2 * n, 7 + 2 * n, 6 + 2 * n + m)
redis.call('HINCRBY', key, 'r', '1')
move_entries(id, old, indexes_of(id))
local next_arg = write_history(id, ARGV, 7 + 2 * n + m)
local tasks = write_tasks(id, ARGV, next_arg, ARGV[3], ARGV[4])
if not tasks then
  return {'full'}
end
local out = {'ok', packed_hash(key)}
for _, t in ipairs(tasks) do
  out[#out + 1] = t
end
return out
