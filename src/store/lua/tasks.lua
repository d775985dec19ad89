-- Reads tasks of one shard for list_tasks. Answers {id, packed hash, ...} (see gather.lua).
-- ARGV[1] n, ARGV[2..1+n] suffixes of task indexes each of which holds every match (the
-- smallest is read), ARGV[2+n] the suffix of an index to read as well ('' for none).
local n = tonumber(ARGV[1])
local best, best_card = nil, 0
for i = 2, 1 + n do
  local c = redis.call('ZCARD', base .. ARGV[i])
  if best == nil or c < best_card then
    best, best_card = ARGV[i], c
  end
end
local ids = {}
if best then
  ids = redis.call('ZRANGE', base .. best, 0, -1)
end
if ARGV[2 + n] ~= '' then
  for _, id in ipairs(redis.call('ZRANGE', base .. ARGV[2 + n], 0, -1)) do
    ids[#ids + 1] = id
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
