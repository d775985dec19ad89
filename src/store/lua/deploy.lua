-- deploy. KEYS[1] the repository's key base "<prefix>{repo}:" (every repository key
-- shares that hash tag). ARGV[1] '1' for duplicate filtering, ARGV[2] "<tenant>\n<name>",
-- ARGV[3] the resources' digest, ARGV[4] the deployment as JSON (its id left empty),
-- ARGV[5] the channel to announce changes on, ARGV[6] n, then n resource name/bytes pairs,
-- then per definition: "<tenant>\n<key>", key, the definition as JSON (id left empty).
-- Answers {'dup', deployment id} or {'ok', deployment id, definition ids...}.
local base = KEYS[1]
if ARGV[1] == '1' then
  local prev = redis.call('HGET', base .. 'n', ARGV[2])
  if prev and redis.call('HGET', base .. 'dg', prev) == ARGV[3] then
    return {'dup', prev}
  end
end
local dep = tostring(redis.call('INCR', base .. 'seq'))
redis.call('HSET', base .. 'd', dep, ARGV[4])
redis.call('HSET', base .. 'dg', dep, ARGV[3])
redis.call('HSET', base .. 'n', ARGV[2], dep)
local n = tonumber(ARGV[6])
local i = 7
for _ = 1, n do
  redis.call('HSET', base .. 'r:' .. dep, ARGV[i], ARGV[i + 1])
  i = i + 2
end
local out = {'ok', dep}
while i <= #ARGV do
  local version = redis.call('HINCRBY', base .. 'v', ARGV[i], '1')
  local id = ARGV[i + 1] .. ':' .. version .. ':' .. dep
  redis.call('HSET', base .. 'p', id, ARGV[i + 2])
  out[#out + 1] = id
  i = i + 3
end
redis.call('PUBLISH', ARGV[5], redis.call('INCR', base .. 'gen'))
return out
