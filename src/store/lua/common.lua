-- Prelude of the library (`LIBRARY` in redis.rs): it runs once, when Redis loads the
-- library, and every function (the other lua/*.lua) can use what it defines.
--
-- `base`: KEYS[1] of the running call (every function sets it first), the shard's key base
-- "<prefix>{s<n>}:". Every key a function touches is built from it, so all of them carry the
-- same hash tag and live in one slot (Redis Cluster routes the call by KEYS[1]; the other keys
-- are in that slot by construction).
local base

local function inst_key(id)
  return base .. 'i:' .. id
end

local function is_open(s)
  return s == 'active' or s == 'suspended'
end

-- The instance's state when it is open, else nil (unknown and closed look alike).
local function open_state(id)
  local s = redis.call('HGET', inst_key(id), 's')
  if is_open(s) then
    return s
  end
  return nil
end

-- Indexes: sets of ids read in string order (Flowable's). One sorted set of all of a shard's
-- open instances would cost ~95 bytes per member (a skiplist) where a small one (a listpack)
-- costs ~12, so an index is chunked: the ids sharing their first 12 digits (a stretch of 100
-- ids of the shard) are the chunk 'c<those digits>:<index>', the chunk numbers in use are the
-- sorted set 'x:<index>', and the string 'n:<index>' counts its members (a key of its own, so
-- a list reads every shard's count with one MGET). All ids have the same length, so chunk
-- order and rank order are string order. Business-key indexes ('b:<key>') are kept smaller
-- still (`bk_ids`).
local function chunk_key(chunk, suffix)
  return base .. 'c' .. chunk .. ':' .. suffix
end

local function count_key(suffix)
  return base .. 'n:' .. suffix
end

local function ch_add(suffix, id)
  local chunk = string.sub(id, 1, -3)
  local key = chunk_key(chunk, suffix)
  if redis.call('ZADD', key, '0', id) == 1 then
    if redis.call('ZCARD', key) == 1 then
      redis.call('ZADD', base .. 'x:' .. suffix, '0', chunk)
    end
    redis.call('INCR', count_key(suffix))
  end
end

-- Removes `id`; answers the number of members left.
local function ch_rem(suffix, id)
  local chunk = string.sub(id, 1, -3)
  local key = chunk_key(chunk, suffix)
  if redis.call('ZREM', key, id) == 0 then
    return tonumber(redis.call('GET', count_key(suffix)) or '0')
  end
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', base .. 'x:' .. suffix, chunk)
  end
  local left = redis.call('DECR', count_key(suffix))
  if left <= 0 then
    redis.call('DEL', count_key(suffix))
  end
  return left
end

local function ch_card(suffix)
  return tonumber(redis.call('GET', count_key(suffix)) or '0')
end

-- The members at [offset, offset + count) of a chunked index in string order, or in reverse
-- order when `desc`: O(log N + offset / 50 + count).
local function ch_page(suffix, offset, count, desc)
  local function range(key, from, to)
    if desc then
      return redis.call('ZRANGE', key, from, to, 'REV')
    end
    return redis.call('ZRANGE', key, from, to)
  end
  local ids = {}
  if count <= 0 then
    return ids
  end
  local dir = base .. 'x:' .. suffix
  -- Chunks are read in batches, the first small: a short page from the start (the usual
  -- list) needs one or two chunks, and every element read into Lua costs Redis.
  local pos, batch = 0, 2
  while true do
    local chunks = range(dir, pos, pos + batch - 1)
    for _, chunk in ipairs(chunks) do
      local key = chunk_key(chunk, suffix)
      -- Skipping needs the chunk's size; reading from its start does not.
      local n = offset > 0 and redis.call('ZCARD', key) or 0
      if offset > 0 and offset >= n then
        offset = offset - n
      else
        for _, id in ipairs(range(key, offset, offset + count - #ids - 1)) do
          ids[#ids + 1] = id
        end
        offset = 0
        if #ids >= count then
          return ids
        end
      end
    end
    if #chunks < batch then
      return ids
    end
    pos, batch = pos + batch, 32
  end
end

-- Appends every member of a chunked index to `ids`, in string order.
local function ch_all(ids, suffix)
  for _, chunk in ipairs(redis.call('ZRANGE', base .. 'x:' .. suffix, 0, -1)) do
    for _, id in ipairs(redis.call('ZRANGE', chunk_key(chunk, suffix), 0, -1)) do
      ids[#ids + 1] = id
    end
  end
end

-- The bucket of a business key: 'bk:<0..4095>', a hash of business key -> its ids. Rust
-- computes the same (`business_key_bucket`) to read it.
local function bk_bucket(bk)
  local h = 0
  for i = 1, #bk do
    h = (h * 31 + string.byte(bk, i)) % 4096
  end
  return base .. 'bk:' .. h
end

-- A business-key index 'b:<bk>' (most hold one id; a sorted set each cost ~100 bytes per
-- key) is a field of its bucket: the ids joined by ',' in string order, up to 16 of them;
-- beyond, the field holds '*' and the ids are the chunked index 'b:<bk>'. Answers the
-- business key, its bucket, and its ids (nil when the field is absent or '*') and whether
-- it is chunked.
local function bk_ids(suffix)
  local bk = string.sub(suffix, 3)
  local bucket = bk_bucket(bk)
  local v = redis.call('HGET', bucket, bk)
  if v == '*' then
    return bk, bucket, nil, true
  end
  local ids = {}
  if v then
    for id in string.gmatch(v, '[^,]+') do
      ids[#ids + 1] = id
    end
  end
  return bk, bucket, ids, false
end

local function is_bk(suffix)
  return string.sub(suffix, 1, 2) == 'b:'
end

local function idx_add(suffix, id)
  if not is_bk(suffix) then
    ch_add(suffix, id)
    return
  end
  -- The usual case, a business key new to this shard, in one call.
  local bk = string.sub(suffix, 3)
  if redis.call('HSETNX', bk_bucket(bk), bk, id) == 1 then
    return
  end
  local _, bucket, ids, chunked = bk_ids(suffix)
  if chunked then
    ch_add(suffix, id)
    return
  end
  for _, known in ipairs(ids) do
    if known == id then
      return
    end
  end
  ids[#ids + 1] = id
  table.sort(ids)
  if #ids > 16 then
    for _, each in ipairs(ids) do
      ch_add(suffix, each)
    end
    redis.call('HSET', bucket, bk, '*')
  else
    redis.call('HSET', bucket, bk, table.concat(ids, ','))
  end
end

local function idx_rem(suffix, id)
  if not is_bk(suffix) then
    ch_rem(suffix, id)
    return
  end
  local bk, bucket, ids, chunked = bk_ids(suffix)
  if chunked then
    if ch_rem(suffix, id) <= 0 then
      redis.call('HDEL', bucket, bk)
    end
    return
  end
  local left = {}
  for _, known in ipairs(ids) do
    if known ~= id then
      left[#left + 1] = known
    end
  end
  if #left == 0 then
    redis.call('HDEL', bucket, bk)
  elseif #left < #ids then
    redis.call('HSET', bucket, bk, table.concat(left, ','))
  end
end

-- The ids of an index listed in its business key's bucket field, or nil for a chunked index.
local function bk_listed(suffix)
  if not is_bk(suffix) then
    return nil
  end
  local _, _, ids = bk_ids(suffix)
  return ids
end

-- The number of members of an index.
local function idx_card(suffix)
  local listed = bk_listed(suffix)
  if listed then
    return #listed
  end
  return ch_card(suffix)
end

-- The members at [offset, offset + count) of an index in string order, or in reverse order
-- when `desc`.
local function idx_page(suffix, offset, count, desc)
  local listed = bk_listed(suffix)
  if not listed then
    return ch_page(suffix, offset, count, desc)
  end
  local page = {}
  for i = offset + 1, math.min(offset + count, #listed) do
    page[#page + 1] = desc and listed[#listed + 1 - i] or listed[i]
  end
  return page
end

-- Appends every member of an index to `ids`, in string order.
local function idx_all(ids, suffix)
  local listed = bk_listed(suffix)
  if not listed then
    ch_all(ids, suffix)
    return
  end
  for _, id in ipairs(listed) do
    ids[#ids + 1] = id
  end
end

-- Moves the index entries of `id` from the indexes `old` to the indexes `new` (lists of
-- suffixes), writing only the differences.
local function move_entries(id, old, new)
  local keep, had = {}, {}
  for _, suffix in ipairs(new) do
    keep[suffix] = true
  end
  for _, suffix in ipairs(old) do
    had[suffix] = true
    if not keep[suffix] then
      idx_rem(suffix, id)
    end
  end
  for _, suffix in ipairs(new) do
    if not had[suffix] then
      idx_add(suffix, id)
    end
  end
end

-- The indexes an instance with these fields (state, definition key, business key, tenant)
-- belongs to.
local function instance_indexes(s, k, b, t)
  local out = {}
  if is_open(s) then
    out[#out + 1] = 'open'
    out[#out + 1] = 'k:' .. k
    if b then
      out[#out + 1] = 'b:' .. b
    end
    if t and t ~= '' then
      out[#out + 1] = 't:' .. t
    end
    if s == 'suspended' then
      out[#out + 1] = 'sus'
    end
  elseif s then
    out[#out + 1] = 'closed'
  end
  return out
end

-- The indexes of an instance, as its hash says now. Callers read them before a change and
-- hand them to `move_entries` with the ones after it, so indexes follow the hash.
local function indexes_of(id)
  local f = redis.call('HMGET', inst_key(id), 's', 'k', 'b', 't')
  return instance_indexes(f[1], f[2], f[3], f[4])
end

-- HSET of the field/value pairs args[from..to], in chunks: unpack() of thousands of values
-- would overflow Lua's C stack. Chunks of 200 keep pairs together.
local function hset_pairs(key, args, from, to)
  local i = from
  while i <= to do
    local j = math.min(i + 199, to)
    redis.call('HSET', key, unpack(args, i, j))
    i = j + 1
  end
end

-- The rarely set scalar fields of an instance (name, business status, due date, claim,
-- tokens) live together in its field 'z', a MessagePack array of field/value strings, so a
-- list asks for one field where it asked for six, mostly absent (`PACKED_FIELDS` in redis.rs,
-- whose `pack` writes a new instance's 'z'; changes go through `inst_write`).
local PACKED = {'nm', 'bs', 'dd', 'cb', 'ct', 'x'}
-- Spelled out: the library's load runs without `ipairs` and the other globals.
local IS_PACKED = {nm = true, bs = true, dd = true, cb = true, ct = true, x = true}

-- Applies `changes` (field -> value, or false to delete) to the packed field 'z' of `key`.
local function set_packed(key, changes)
  local now = {}
  local z = redis.call('HGET', key, 'z')
  if z then
    local flat = cmsgpack.unpack(z)
    for i = 1, #flat, 2 do
      now[flat[i]] = flat[i + 1]
    end
  end
  for field, value in pairs(changes) do
    now[field] = value or nil
  end
  local flat = {}
  for _, field in ipairs(PACKED) do
    if now[field] then
      flat[#flat + 1] = field
      flat[#flat + 1] = now[field]
    end
  end
  if #flat > 0 then
    redis.call('HSET', key, 'z', cmsgpack.pack(flat))
  elseif z then
    redis.call('HDEL', key, 'z')
  end
end

-- Writes the field/value pairs args[from..to] of the instance hash `key` and deletes its
-- fields args[del_from..del_to], the packed ones inside 'z'.
local function inst_write(key, args, from, to, del_from, del_to)
  local plain, changes = {}, {}
  for i = from, to, 2 do
    if IS_PACKED[args[i]] then
      changes[args[i]] = args[i + 1]
    else
      plain[#plain + 1] = args[i]
      plain[#plain + 1] = args[i + 1]
    end
  end
  hset_pairs(key, plain, 1, #plain)
  for i = del_from, del_to do
    if IS_PACKED[args[i]] then
      changes[args[i]] = false
    else
      redis.call('HDEL', key, args[i])
    end
  end
  if next(changes) then
    set_packed(key, changes)
  end
end

-- A fresh id of this shard (instances and tasks share the sequence), or nil when the shard
-- has used all its ids. first: the shard's first id, span: how many ids a shard has.
local function alloc_id(first, span)
  local seq = redis.call('INCR', base .. 'seq')
  if seq >= tonumber(span) then
    return nil
  end
  -- Lua numbers are doubles: exact up to 2^53, far above the largest id (~2.6e13).
  return string.format('%d', tonumber(first) + seq)
end

local function task_key(id)
  return base .. 'tk:' .. id
end

-- The indexes of a task as its hash says now: 'td' for an ended task, or 'to' (open),
-- 'ta:<assignee>', 'tu:<user>' / 'tg:<group>' per candidate (fields 'c:u:<user>' /
-- 'c:g:<group>'). An instance lists its tasks in its own hash ('tk:<id>' fields), which
-- costs a few bytes where a set per instance would cost a key.
local function task_indexes(id)
  local key = task_key(id)
  local f = redis.call('HMGET', key, 'p', 'a', 'et')
  local p, a, et = f[1], f[2], f[3]
  if not p then
    return {}
  end
  if et then
    return {'td'}
  end
  local out = {'to'}
  if a then
    out[#out + 1] = 'ta:' .. a
  end
  for _, field in ipairs(redis.call('HKEYS', key)) do
    local kind, who = string.match(field, '^c:([ug]):(.*)$')
    if kind == 'u' then
      out[#out + 1] = 'tu:' .. who
    elseif kind == 'g' then
      out[#out + 1] = 'tg:' .. who
    end
  end
  return out
end

-- Writes a task whole from the field/value pairs args[from..to] (replacing what it had),
-- owned by instance `instance`, and indexes it. A new task (`fresh`) has no key and no index
-- entries yet, and its indexes are read off the arguments instead of the hash.
local function write_task(id, instance, args, from, to, fresh)
  local key = task_key(id)
  local old = {}
  if not fresh then
    old = task_indexes(id)
    redis.call('DEL', key)
  end
  if to - from < 200 then
    redis.call('HSET', key, 'p', instance, unpack(args, from, to))
  else
    hset_pairs(key, args, from, to)
    redis.call('HSET', key, 'p', instance)
  end
  redis.call('HSET', inst_key(instance), 'tk:' .. id, '')
  if not fresh then
    move_entries(id, old, task_indexes(id))
    return
  end
  local ended, assignee = false, nil
  for i = from, to, 2 do
    local f = args[i]
    if f == 'et' then
      ended = true
    elseif f == 'a' then
      assignee = args[i + 1]
    end
  end
  if ended then
    idx_add('td', id)
    return
  end
  idx_add('to', id)
  if assignee then
    idx_add('ta:' .. assignee, id)
  end
  for i = from, to, 2 do
    local kind, who = string.match(args[i], '^c:([ug]):(.*)$')
    if kind == 'u' then
      idx_add('tu:' .. who, id)
    elseif kind == 'g' then
      idx_add('tg:' .. who, id)
    end
  end
end

-- The ids of every task of an instance, open or ended.
local function instance_tasks(instance)
  local ids = {}
  for _, field in ipairs(redis.call('HKEYS', inst_key(instance))) do
    if string.sub(field, 1, 3) == 'tk:' then
      ids[#ids + 1] = string.sub(field, 4)
    end
  end
  return ids
end

-- Writes the tasks encoded in args from position i on: for each, its id ('0' for a new one,
-- which gets a fresh id), the number of field/value arguments, then those. Answers the ids
-- written, in order, or nil when the shard ran out of ids.
local function write_tasks(instance, args, i, first, span)
  local ids = {}
  while i <= #args do
    local id = args[i]
    local fresh = id == '0'
    if fresh then
      id = alloc_id(first, span)
      if not id then
        return nil
      end
    end
    local n = tonumber(args[i + 1])
    write_task(id, instance, args, i + 2, i + 1 + n, fresh)
    ids[#ids + 1] = id
    i = i + 2 + n
  end
  return ids
end

-- Applies `fn(key)` to every open task of an instance, keeping the indexes in step.
local function each_open_task(instance, fn)
  for _, tid in ipairs(instance_tasks(instance)) do
    local key = task_key(tid)
    if redis.call('HEXISTS', key, 'et') == 0 then
      local old = task_indexes(tid)
      fn(key)
      move_entries(tid, old, task_indexes(tid))
    end
  end
end

-- Activity records of an instance: a hash 'h:<instance>' of key -> "<start>|<activity>|<end>"
-- ('<end>' empty while open). Writes the records at args[i+1..] (args[i] is their number of
-- key/value arguments) and answers the index after them.
local function write_history(instance, args, i)
  local n = tonumber(args[i])
  if n > 0 then
    hset_pairs(base .. 'h:' .. instance, args, i + 1, i + n)
  end
  return i + 1 + n
end

-- Ends the open activity records of an instance at `at`.
local function close_history(instance, at)
  local key = base .. 'h:' .. instance
  local h = redis.call('HGETALL', key)
  for j = 1, #h, 2 do
    if string.sub(h[j + 1], -1) == '|' then
      redis.call('HSET', key, h[j], h[j + 1] .. at)
    end
  end
end

-- Of the index suffixes args[from..to], each of which holds every match, the one with the
-- fewest members (nil when there are none).
local function smallest_index(args, from, to)
  local best, best_card = nil, 0
  for i = from, to do
    local c = idx_card(args[i])
    if best == nil or c < best_card then
      best, best_card = args[i], c
    end
  end
  return best
end

-- {id, packed hash, ...} of the ids whose hash (at key_of(id)) exists: each hash is its
-- HGETALL array as one MessagePack string (Redis' built-in cmsgpack), one bulk reply per
-- record instead of two per field.
local function pack_hashes(ids, key_of)
  local out = {}
  for _, id in ipairs(ids) do
    local h = redis.call('HGETALL', key_of(id))
    if #h > 0 then
      out[#out + 1] = id
      out[#out + 1] = cmsgpack.pack(h)
    end
  end
  return out
end

-- The hash at `key` packed as `pack_hashes` packs one: what functions that change an
-- instance answer with (a reply of two elements per field cost the server ~1,300
-- instructions each to parse).
local function packed_hash(key)
  return cmsgpack.pack(redis.call('HGETALL', key))
end
