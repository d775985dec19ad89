-- migrate, from layout 1 or 2: turns the plain sorted set ARGV[1] of this shard (an index of
-- the old layout, every member an id) into the index of the same name in this layout (see
-- `idx_add`), in one atomic step. Answers the number of ids moved, or -1 when the key is no
-- sorted set.
local key = base .. ARGV[1]
if redis.call('TYPE', key).ok ~= 'zset' then
  return -1
end
local ids = redis.call('ZRANGE', key, 0, -1)
redis.call('DEL', key)
for _, id in ipairs(ids) do
  idx_add(ARGV[1], id)
end
return #ids
