-- Fast path of list_instances on one shard. ARGV[1] index key suffix, ARGV[2] how many ids,
-- ARGV[3] 'asc' or 'desc'. Answers {size of the index, {its first ids in string order}}:
-- O(log N + n) for an index of N members.
local z = base .. ARGV[1]
local card = redis.call('ZCARD', z)
local ids
if ARGV[3] == 'desc' then
  ids = redis.call('ZRANGE', z, '+', '-', 'BYLEX', 'REV', 'LIMIT', 0, ARGV[2])
else
  ids = redis.call('ZRANGE', z, '-', '+', 'BYLEX', 'LIMIT', 0, ARGV[2])
end
return {card, ids}
