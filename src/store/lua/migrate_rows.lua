-- migrate_rows, from layouts 1 to 4: packs the rarely set scalar fields of the instances
-- ARGV[1..] of this shard into their field 'z' (`set_packed`), in one atomic step. Answers how
-- many instances had any (0 for ones already packed, so it can run again).
local packed = 0
for _, id in ipairs(ARGV) do
  local key = inst_key(id)
  local values = redis.call('HMGET', key, unpack(PACKED))
  local changes, any = {}, false
  for i, field in ipairs(PACKED) do
    if values[i] then
      changes[field] = values[i]
      any = true
    end
  end
  if any then
    set_packed(key, changes)
    redis.call('HDEL', key, unpack(PACKED))
    packed = packed + 1
  end
end
return packed
