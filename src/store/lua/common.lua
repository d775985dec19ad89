-- Prelude of every script (prepended once, when the scripts are built).
--
-- KEYS[1] is the shard's key base "<prefix>{s<n>}:". Every key a script touches is built
-- from it, so all of them carry the same hash tag and live in one slot (Redis Cluster
-- routes the script by KEYS[1]; the other keys are in that slot by construction).
local base = KEYS[1]

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

-- Adds (op 'ZADD') or removes (op 'ZREM') the index entries of an instance, as its hash
-- says now. Callers remove before a change and add after it, so indexes follow the hash.
local function reindex(id, op)
  local f = redis.call('HMGET', inst_key(id), 's', 'k', 'b', 't')
  local s, k, b, t = f[1], f[2], f[3], f[4]
  local function z(zkey)
    if op == 'ZADD' then
      redis.call('ZADD', zkey, 0, id)
    else
      redis.call('ZREM', zkey, id)
    end
  end
  if is_open(s) then
    z(base .. 'open')
    z(base .. 'k:' .. k)
    if b then
      z(base .. 'b:' .. b)
    end
    if t and t ~= '' then
      z(base .. 't:' .. t)
    end
    if s == 'suspended' then
      z(base .. 'sus')
    end
  elseif s then
    z(base .. 'closed')
  end
end

-- The index entries of a new instance, read off its field/value arguments args[from..to]
-- instead of its hash (see `reindex`).
local function index_new(id, args, from, to)
  local f = {}
  for i = from, to, 2 do
    local name = args[i]
    if name == 's' or name == 'k' or name == 'b' or name == 't' then
      f[name] = args[i + 1]
    end
  end
  if is_open(f.s) then
    redis.call('ZADD', base .. 'open', 0, id)
    redis.call('ZADD', base .. 'k:' .. f.k, 0, id)
    if f.b then
      redis.call('ZADD', base .. 'b:' .. f.b, 0, id)
    end
    if f.t and f.t ~= '' then
      redis.call('ZADD', base .. 't:' .. f.t, 0, id)
    end
    if f.s == 'suspended' then
      redis.call('ZADD', base .. 'sus', 0, id)
    end
  elseif f.s then
    redis.call('ZADD', base .. 'closed', 0, id)
  end
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

-- Adds or removes the index entries of a task, as its hash says now: 'td' for an ended task,
-- or 'to' (open), 'ta:<assignee>', 'tu:<user>' / 'tg:<group>' per candidate (fields
-- 'c:u:<user>' / 'c:g:<group>'). An instance lists its tasks in its own hash ('tk:<id>'
-- fields), which costs a few bytes where a set per instance would cost a key.
local function task_reindex(id, op)
  local key = task_key(id)
  local f = redis.call('HMGET', key, 'p', 'a', 'et')
  local p, a, et = f[1], f[2], f[3]
  if not p then
    return
  end
  local function z(zkey)
    if op == 'ZADD' then
      redis.call('ZADD', zkey, 0, id)
    else
      redis.call('ZREM', zkey, id)
    end
  end
  if et then
    z(base .. 'td')
    return
  end
  z(base .. 'to')
  if a then
    z(base .. 'ta:' .. a)
  end
  for _, field in ipairs(redis.call('HKEYS', key)) do
    local kind, who = string.match(field, '^c:([ug]):(.*)$')
    if kind == 'u' then
      z(base .. 'tu:' .. who)
    elseif kind == 'g' then
      z(base .. 'tg:' .. who)
    end
  end
end

-- Writes a task whole from the field/value pairs args[from..to] (replacing what it had),
-- owned by instance `instance`, and indexes it. A new task (`fresh`) has no key and no index
-- entries yet, and its indexes are read off the arguments instead of the hash.
local function write_task(id, instance, args, from, to, fresh)
  local key = task_key(id)
  if not fresh then
    task_reindex(id, 'ZREM')
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
    task_reindex(id, 'ZADD')
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
    redis.call('ZADD', base .. 'td', 0, id)
    return
  end
  redis.call('ZADD', base .. 'to', 0, id)
  if assignee then
    redis.call('ZADD', base .. 'ta:' .. assignee, 0, id)
  end
  for i = from, to, 2 do
    local kind, who = string.match(args[i], '^c:([ug]):(.*)$')
    if kind == 'u' then
      redis.call('ZADD', base .. 'tu:' .. who, 0, id)
    elseif kind == 'g' then
      redis.call('ZADD', base .. 'tg:' .. who, 0, id)
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
      task_reindex(tid, 'ZREM')
      fn(key)
      task_reindex(tid, 'ZADD')
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
    local c = redis.call('ZCARD', base .. args[i])
    if best == nil or c < best_card then
      best, best_card = args[i], c
    end
  end
  return best
end

-- Appends every member of the index `suffix` to `ids`.
local function append_index(ids, suffix)
  for _, id in ipairs(redis.call('ZRANGE', base .. suffix, 0, -1)) do
    ids[#ids + 1] = id
  end
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
