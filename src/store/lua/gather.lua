-- Reads instances of one shard for list_instances. Answers {id, packed hash, id, packed
-- hash, ...} for the candidates that exist; a packed hash is the HGETALL array as one
-- MessagePack string (Redis' built-in cmsgpack, C code): one bulk reply per instance instead
-- of two per field, as parsing reply elements is what a list costs the client most.
-- ARGV[1] 'ids': ARGV[2..] the ids to read.
-- ARGV[1] 'pageids': ARGV[2] index suffix, ARGV[3] offset, ARGV[4] count, ARGV[5] 'asc' or
--   'desc': answers just the ids of that stretch of the index in string order (`idx_page`).
-- ARGV[1] 'idx': ARGV[2] n, ARGV[3..2+n] suffixes of open-instance indexes each of which
--   holds every open match (the smallest one is read), ARGV[3+n] '1' to add the closed ones.
local ids = {}
if ARGV[1] == 'ids' then
  for i = 2, #ARGV do
    ids[#ids + 1] = ARGV[i]
  end
elseif ARGV[1] == 'pageids' then
  return idx_page(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == 'desc')
else
  local n = tonumber(ARGV[2])
  local best = smallest_index(ARGV, 3, 2 + n)
  if best then
    idx_all(ids, best)
  end
  if ARGV[3 + n] == '1' then
    idx_all(ids, 'closed')
  end
end
return pack_hashes(ids, inst_key)
