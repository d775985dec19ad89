-- Reads tasks of one shard for list_tasks. Answers {id, packed hash, ...} (see gather.lua).
-- ARGV[1] 'inst': ARGV[2] an instance id, whose tasks (open and ended) are read.
-- ARGV[1] 'idx': ARGV[2] n, ARGV[3..2+n] suffixes of task indexes each of which holds every
--   match (the smallest is read), ARGV[3+n] the suffix of an index to read as well ('' for
--   none).
local ids = {}
if ARGV[1] == 'inst' then
  ids = instance_tasks(ARGV[2])
else
  local n = tonumber(ARGV[2])
  local best = smallest_index(ARGV, 3, 2 + n)
  if best then
    idx_all(ids, best)
  end
  if ARGV[3 + n] ~= '' then
    idx_all(ids, ARGV[3 + n])
  end
end
return pack_hashes(ids, task_key)
