-- add_identity_link. ARGV[1] id, ARGV[2] the link's field. Answers {'ok'} or {'nf'}.
if not open_state(ARGV[1]) then
  return {'nf'}
end
redis.call('HSET', inst_key(ARGV[1]), ARGV[2], '')
return {'ok'}
