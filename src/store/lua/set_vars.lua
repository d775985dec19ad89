-- set_variables. ARGV[1] id, ARGV[2] mode ('create' | 'upsert' | 'update'), ARGV[3..]
-- field/value pairs ('v:<name>', JSON). Checks every name before it writes anything.
-- Answers {'ok', packed hash (`packed_hash`)}, {'nf'}, {'vx', field} (exists, create) or {'vm', field} (missing, update).
if not open_state(ARGV[1]) then
  return {'nf'}
end
local key = inst_key(ARGV[1])
local mode = ARGV[2]
if mode ~= 'upsert' then
  for i = 3, #ARGV, 2 do
    local exists = redis.call('HEXISTS', key, ARGV[i]) == 1
    if mode == 'create' and exists then
      return {'vx', ARGV[i]}
    end
    if mode == 'update' and not exists then
      return {'vm', ARGV[i]}
    end
  end
end
hset_pairs(key, ARGV, 3, #ARGV)
return {'ok', packed_hash(key)}
