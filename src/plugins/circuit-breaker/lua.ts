/**
 * The shared breaker's scripts. One hash per breaker (`<prefix>cb:{<breaker id>}`): its state
 * (`st`), when the open period ends (`until`, Redis time in ms), the open period in force
 * (`om`), a version (`gen`: the Redis time of the last transition, so a message older than the
 * state a node holds is ignored even after the key expired and started over), the half-open
 * trials handed out (`tr`) and succeeded (`tok`) since `since`, and the window's per-second
 * counts (`w:<second>:c|f|s`). Every script replies `{state, ms left open, om, gen, changed}`;
 * the caller publishes when `changed` is 1 (a script may not publish across Cluster slots).
 */

const PROLOGUE = `
local k = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', k, 'st', 'until', 'om', 'gen', 'tr', 'tok', 'since')
local s = { st = v[1] or 'closed', untl = tonumber(v[2]) or 0, om = tonumber(v[3]) or 0,
  gen = tonumber(v[4]) or 0, tr = tonumber(v[5]) or 0, tok = tonumber(v[6]) or 0, since = tonumber(v[7]) or 0 }
local changed = 0
local function set(st)
  s.st = st
  s.gen = math.max(s.gen + 1, now)
  changed = 1
end
local function window(drop_before)
  local all = redis.call('HGETALL', k)
  local c, f, sl, old = 0, 0, 0, {}
  for i = 1, #all, 2 do
    local sec, kind = string.match(all[i], '^w:(%d+):(%a)$')
    if sec then
      if tonumber(sec) < drop_before then old[#old + 1] = all[i]
      else
        local n = tonumber(all[i + 1])
        if kind == 'c' then c = c + n elseif kind == 'f' then f = f + n else sl = sl + n end
      end
    end
  end
  if #old > 0 then redis.call('HDEL', k, unpack(old)) end
  return c, f, sl
end
local function finish(ttl)
  redis.call('HSET', k, 'st', s.st, 'until', s.untl, 'om', s.om, 'gen', s.gen, 'tr', s.tr, 'tok', s.tok, 'since', s.since)
  redis.call('PEXPIRE', k, ttl)
  local left = 0
  if s.st == 'open' then left = math.max(0, s.untl - now) end
  return { s.st, left, s.om, s.gen, changed }
end
`

/**
 * Adds one node's batch of outcomes to the window and opens a closed breaker the window trips.
 * ARGV: calls, failures, slow, window s, minimum calls, failure %, slow on (0|1), slow %, open
 * ms, ttl ms. A batch of zeros reads the state (a resync).
 */
export const FLUSH_LUA = `${PROLOGUE}
local calls, fails, slow = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local win, minc, frate = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local slowon, srate, om0 = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
if s.om == 0 then s.om = om0 end
if s.st == 'closed' and calls > 0 then
  local sec = math.floor(now / 1000)
  redis.call('HINCRBY', k, 'w:' .. sec .. ':c', calls)
  if fails > 0 then redis.call('HINCRBY', k, 'w:' .. sec .. ':f', fails) end
  if slow > 0 then redis.call('HINCRBY', k, 'w:' .. sec .. ':s', slow) end
  local c, f, sl = window(sec - win + 1)
  if c >= minc and (f * 100 >= frate * c or (slowon == 1 and sl * 100 >= srate * c)) then
    s.om = om0
    s.untl = now + om0
    set('open')
    window(math.huge)
  end
end
return finish(tonumber(ARGV[10]))
`

/**
 * Hands out one half-open trial call, cluster-wide: an open breaker whose period is over turns
 * half-open here (once, whichever node asks first); trials handed out but never reported are
 * given back after a window. ARGV: half-open calls, stale ms, ttl ms. Reply: the state reply
 * with a sixth element, 1 when a trial was granted.
 */
export const ACQUIRE_LUA = `${PROLOGUE}
local max, stale = tonumber(ARGV[1]), tonumber(ARGV[2])
if s.st == 'open' and now >= s.untl then
  s.tr = 0
  s.tok = 0
  s.since = now
  set('half_open')
end
local granted = 0
if s.st == 'half_open' then
  if s.tr >= max and now - s.since > stale then
    s.tr = s.tok
    s.since = now
  end
  if s.tr < max then
    s.tr = s.tr + 1
    granted = 1
  end
end
local r = finish(tonumber(ARGV[3]))
r[6] = granted
return r
`

/**
 * A trial call's result: 'ok' (all trials ok: closed, the window cleared), 'fail' (open again
 * for twice as long, up to the max) or 'release' (it never reached the upstream). ARGV: result,
 * half-open calls, base open ms, max open ms, ttl ms.
 */
export const TRIAL_LUA = `${PROLOGUE}
local result, max, om0, omax = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if s.st == 'half_open' then
  if result == 'release' then
    if s.tr > s.tok then s.tr = s.tr - 1 end
  elseif result == 'fail' then
    s.om = math.min(math.max(s.om, om0) * 2, omax)
    s.untl = now + s.om
    set('open')
  else
    s.tok = s.tok + 1
    if s.tok >= max then
      s.om = om0
      s.tr = 0
      s.tok = 0
      set('closed')
      window(math.huge)
    end
  end
end
return finish(tonumber(ARGV[5]))
`

/** The Admin API's force: 'open' (held open) or 'close' (closed, clean window). ARGV: what, base open ms, ttl ms. */
export const FORCE_LUA = `${PROLOGUE}
local om0 = tonumber(ARGV[2])
s.om = om0
s.tr = 0
s.tok = 0
if ARGV[1] == 'open' then
  s.untl = now + om0
  set('forced_open')
else
  set('closed')
  window(math.huge)
end
return finish(tonumber(ARGV[3]))
`
