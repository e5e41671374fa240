import { CALENDAR_LUA, windowsLua } from './lua.js'

/**
 * Quota leasing in Redis: the script `lease.ts` calls instead of one per request. It reads the
 * same hash fields as `lua.ts` (a node in per-request mode and a leasing node share counters:
 * leased units are counted as admitted the moment they are granted), so the limit holds across
 * both.
 *
 * Mode 1 (lease) grants a block of units to one node, taken from every window at once:
 *   avail  = units every window can still admit now (fixed: L − count; sliding: L − estimate;
 *            token bucket: whole tokens in the bucket), the minimum over the windows
 *   grant  = need + min(want, ⌊(avail − need) / 2⌋), or avail when need ≥ avail
 *            (`grantSize` in blocks.ts, which the local policy's node-wide blocks use too)
 * `need` is what the node must admit right away (requests waiting on this call), `want` the
 * extra block its own rate asks for. Halving what is left after `need` makes blocks shrink as
 * the limit nears (at one unit left, a grant is the one unit a waiting request needs), so a
 * node never holds much that another node then has to refuse; the sum of grants never exceeds
 * what the windows allow, so the limit is never exceeded.
 *
 * Every grant is recorded under its holder (field `h:<holder>` = its Redis time `t0`; a holder, one
 * limiter instance, has at most one lease of a key at a time), and a return counts only when
 * that record is there, and removes it. So a return never gives back what this server did not
 * grant: a grant lost with a failed master (its replica never saw it), a return sent twice (a
 * client library that replays a call whose connection closed) or a late return after a newer
 * grant all change nothing (their units are lost until the window ends, never made twice).
 *
 * Mode 2 (return) gives back `units` unused units of a grant made at Redis time `t0`: a fixed
 * window takes them off its count while it is still the window of `t0` (after it, the count has
 * restarted anyway); a sliding window takes them off the window they were counted in, current
 * or (after the boundary) previous, where they still weigh on the estimate; a token bucket moves
 * its arrival time back by that many tokens, never before now.
 *
 * KEYS[1] the client's hash
 * ARGV    algorithm (1 fixed, 2 sliding, 3 token), n windows, mode (1 lease, 2 return),
 *         now (0 = Redis TIME), lease: need, want | return: units, t0; the holder; then per
 *         window: period code, size ms, limit, capacity, ms per token
 * returns lease: {granted, now, refused, retry ms, ttl ms, remaining₁, reset ms₁, …}:
 *         `remaining` is what stays in Redis after the grant, `ttl` the time until the first
 *         window of the grant ends (a lease is used within it). Return: 0.
 */
export const LEASE_LUA = `${CALENDAR_LUA}
local key = KEYS[1]
local algo = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local mode = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local a5, a6 = tonumber(ARGV[5]), tonumber(ARGV[6])
local holder = 'h:' .. ARGV[7]
${windowsLua(7)}
if mode == 2 then
  local units, t0 = a5, a6
  if tonumber(redis.call('HGET', key, holder)) ~= t0 then return 0 end
  redis.call('HDEL', key, holder)
  local set = {}
  for i = 1, n do
    local o, x = (i - 1) * stride + 1, w[i]
    if algo == 1 then
      if st[o] == fixed_bounds(x.code, x.size, t0) and st[o + 1] > 0 then
        set[#set + 1] = fields[o + 1]; set[#set + 1] = num(math.max(0, st[o + 1] - units))
      end
    elseif algo == 2 then
      local cur0 = t0 - t0 % x.size
      if st[o] == cur0 and st[o + 1] > 0 then
        set[#set + 1] = fields[o + 1]; set[#set + 1] = num(math.max(0, st[o + 1] - units))
      elseif st[o] == cur0 + x.size and st[o + 2] > 0 then
        set[#set + 1] = fields[o + 2]; set[#set + 1] = num(math.max(0, st[o + 2] - units))
      end
    elseif st[o] > now then
      set[#set + 1] = fields[o]; set[#set + 1] = num(math.max(now, st[o] - units * x.interval))
    end
  end
  if #set > 0 then redis.call('HSET', key, unpack(set)) end
  return 0
end

local need, want = a5, a6
local out = { 0, now, 0, 0, 0 }
local refused, retry, avail, ttl = 0, 0, math.huge, math.huge
for i = 1, n do
  local o, x = (i - 1) * stride + 1, w[i]
  local remaining, reset, wait, ends = 0, 0, 0, 0
  if algo == 1 then
    local start, finish = fixed_bounds(x.code, x.size, now)
    local count = 0
    if st[o] == start then count = st[o + 1] end
    reset = finish - now
    ends = reset
    remaining = math.max(0, math.floor(x.limit - count))
    if remaining < 1 then wait = reset end
  elseif algo == 2 then
    local size = x.size
    local cur = now - now % size
    local prev, curr = 0, 0
    if st[o] == cur then prev, curr = st[o + 2], st[o + 1]
    elseif st[o] == cur - size then prev = st[o + 1] end
    local elapsed = now - cur
    local estimate = prev * (size - elapsed) / size + curr
    reset = size - elapsed
    ends = reset
    if estimate + 1 > x.limit + EPS then
      if curr + 1 <= x.limit + EPS and prev > 0 then
        local e = size * (1 - (x.limit - 1 - curr) / prev)
        wait = math.max(1, math.ceil(e - elapsed - 1e-6))
      else
        local e = 0
        if curr > 0 then e = math.max(0, size * (1 - (x.limit - 1) / curr)) end
        wait = math.max(1, size - elapsed + math.ceil(e - 1e-6))
      end
    else
      remaining = math.floor(x.limit - estimate + EPS)
    end
  else
    local tat = math.max(st[o], now)
    local nxt = tat + x.interval
    local allow_at = nxt - x.cap * x.interval
    ends = x.size
    if now + EPS < allow_at then
      wait = allow_at - now
      reset = tat - now
    else
      remaining = math.floor((now - allow_at) / x.interval + EPS) + 1
      reset = nxt - now
    end
  end
  out[4 + 2 * i] = remaining
  out[5 + 2 * i] = math.ceil(reset)
  if remaining < avail then avail = remaining end
  if ends < ttl then ttl = ends end
  if wait > 0 and (refused == 0 or wait >= retry) then
    refused, retry = i, wait
  end
end
out[3], out[4], out[5] = refused, math.ceil(retry), math.floor(ttl)
if refused ~= 0 or avail < 1 then return out end

local grant = avail
if need < avail then grant = need + math.min(want, math.floor((avail - need) / 2)) end
out[1] = grant

local set, expires = {}, 0
for i = 1, n do
  local o, x = (i - 1) * stride + 1, w[i]
  out[4 + 2 * i] = out[4 + 2 * i] - grant
  if algo == 1 then
    local start, finish = fixed_bounds(x.code, x.size, now)
    local count = grant
    if st[o] == start then count = st[o + 1] + grant end
    set[#set + 1] = fields[o]; set[#set + 1] = num(start)
    set[#set + 1] = fields[o + 1]; set[#set + 1] = num(count)
    expires = math.max(expires, finish)
  elseif algo == 2 then
    local size = x.size
    local cur = now - now % size
    local curr, prev = st[o + 1], st[o + 2]
    if st[o] ~= cur then
      if st[o] == cur - size then prev = st[o + 1] else prev = 0 end
      curr = 0
    end
    set[#set + 1] = fields[o]; set[#set + 1] = num(cur)
    set[#set + 1] = fields[o + 1]; set[#set + 1] = num(curr + grant)
    set[#set + 1] = fields[o + 2]; set[#set + 1] = num(prev)
    expires = math.max(expires, cur + 2 * size)
  else
    local nxt = math.max(st[o], now) + grant * x.interval
    set[#set + 1] = fields[o]; set[#set + 1] = num(nxt)
    expires = math.max(expires, nxt)
  end
end
set[#set + 1] = holder; set[#set + 1] = num(now)
redis.call('HSET', key, unpack(set))
redis.call('PEXPIRE', key, math.ceil(expires - now) + 1000)
return out
`
