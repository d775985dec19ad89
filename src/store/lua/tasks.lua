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
  local best, best_card = nil, 0
  for i = 3, 2 + n do
    local c = redis.call('ZCARD', base .. ARGV[i])
    if best == nil or c < best_card then
      best, best_card = ARGV[i], c
    end
  end
  if best then
    ids = redis.call('ZRANGE', base .. best, 0, -1)
  end
  if ARGV[3 + n] ~= '' then
    for _, id in ipairs(redis.call('ZRANGE', base .. ARGV[3 + n], 0, -1)) do
      ids[#ids + 1] = id
    end
  end
end
local out = {}
for _, id in ipairs(ids) do
  local h = redis.call('HGETALL', task_key(id))
  if #h > 0 then
    out[#out + 1] = id
    out[#out + 1] = cmsgpack.pack(h)
  end
end
return out
