-- add_comment. ARGV[1] id, ARGV[2] the comment as JSON (without its id). The instance may
-- be open or ended. Answers {'ok', n} (the comment is the n-th) or {'nf'}.
if redis.call('EXISTS', inst_key(ARGV[1])) == 0 then
  return {'nf'}
end
return {'ok', redis.call('RPUSH', base .. 'cm:' .. ARGV[1], ARGV[2])}
