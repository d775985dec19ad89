-- remove_identity_link. ARGV[1] id, ARGV[2] the link's field.
-- Answers {'ok'}, {'nf'} or {'lm'} (no such link).
if not open_state(ARGV[1]) then
  return {'nf'}
end
if redis.call('HDEL', inst_key(ARGV[1]), ARGV[2]) == 0 then
  return {'lm'}
end
return {'ok'}
