-- delete_deployment. KEYS[1] the repository's key base, ARGV[1] the deployment id,
-- ARGV[2] the channel to announce changes on. Answers {'ok'} or {'nf'}.
local base = KEYS[1]
local dep = ARGV[1]
if redis.call('HEXISTS', base .. 'd', dep) == 0 then
  return {'nf'}
end
redis.call('HDEL', base .. 'd', dep)
redis.call('HDEL', base .. 'dg', dep)
redis.call('DEL', base .. 'r:' .. dep)
local suffix = ':' .. dep
for _, id in ipairs(redis.call('HKEYS', base .. 'p')) do
  if string.sub(id, -#suffix) == suffix then
    redis.call('HDEL', base .. 'p', id)
  end
end
local names = redis.call('HGETALL', base .. 'n')
for j = 1, #names, 2 do
  if names[j + 1] == dep then
    redis.call('HDEL', base .. 'n', names[j])
  end
end
redis.call('PUBLISH', ARGV[2], redis.call('INCR', base .. 'gen'))
return {'ok'}
