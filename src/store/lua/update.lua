-- update_instance. ARGV[1] id, ARGV[2] n, ARGV[3..2+2n] field/value pairs to set, the rest
-- fields to delete. Answers {'ok', packed hash (`packed_hash`)} or {'nf'}.
local id = ARGV[1]
if not open_state(id) then
  return {'nf'}
end
local key = inst_key(id)
local n = tonumber(ARGV[2])
local old = indexes_of(id)
inst_write(key, ARGV, 3, 2 + 2 * n, 3 + 2 * n, #ARGV)
move_entries(id, old, indexes_of(id))
return {'ok', packed_hash(key)}
