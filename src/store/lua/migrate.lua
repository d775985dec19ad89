-- migrate, from layout 1 or 2: moves up to ARGV[2] ids of the plain sorted set ARGV[1] of this
-- shard (an index of the old layout, every member an id) into the index of the same name in
-- this layout (see `idx_add`), in one atomic step; the old key is gone once it is empty.
-- Called until it answers 0, so Redis is never blocked for long by a big index. Answers the
-- number of ids moved, or -1 when the key is no sorted set.
local key = base .. ARGV[1]
if redis.call('TYPE', key).ok ~= 'zset' then
  return -1
end
local ids = redis.call('ZRANGE', key, 0, tonumber(ARGV[2]) - 1)
if #ids > 0 then
  redis.call('ZREM', key, unpack(ids))
end
for _, id in ipairs(ids) do
  idx_add(ARGV[1], id)
end
return #ids
