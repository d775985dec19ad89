-- write_items. KEYS[1] the items' key base "<prefix>{items}:" (the prelude's `base`). ARGV[1] n,
-- then per item: id, entity, catalog, the item as JSON. A known item gets the new label (when
-- set) and the new values merged into its own; every item is indexed by entity and catalog.
-- Answers one 1 (new) or 0 (known) per item.
local out = {}
local i = 2
for k = 1, tonumber(ARGV[1]) do
  local id, entity, catalog, json = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  local key = base .. 'it:' .. id
  local old = redis.call('GET', key)
  if old then
    local o = cjson.decode(old)
    local n = cjson.decode(json)
    if type(o.values) ~= 'table' then o.values = {} end
    if type(n.values) == 'table' then
      for f, v in pairs(n.values) do o.values[f] = v end
    end
    if n.label ~= nil and n.label ~= cjson.null then o.label = n.label end
    if next(o.values) == nil then o.values = nil end
    redis.call('SET', key, cjson.encode(o))
    out[k] = 0
  else
    redis.call('SET', key, json)
    out[k] = 1
  end
  redis.call('ZADD', base .. 'ix:' .. entity .. ':' .. catalog, '0', id)
end
return out
