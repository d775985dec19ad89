-- delete_variables. ARGV[1] id, ARGV[2] the variable's field ('v:<name>'), or absent to
-- delete every variable. Answers {'ok'}, {'nf'} or {'vm', field} (no such variable).
if not open_state(ARGV[1]) then
  return {'nf'}
end
local key = inst_key(ARGV[1])
if ARGV[2] then
  if redis.call('HDEL', key, ARGV[2]) == 0 then
    return {'vm', ARGV[2]}
  end
else
  for _, f in ipairs(redis.call('HKEYS', key)) do
    if string.sub(f, 1, 2) == 'v:' then
      redis.call('HDEL', key, f)
    end
  end
end
return {'ok'}
