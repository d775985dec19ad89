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

