/**
 * The Redis side of `algorithms.ts`: one script call per request checks every window of one
 * plugin instance for one client and records the request only when all of them have room
 * (atomic: Redis runs a script alone). One hash per (instance, client), so every window lives in
 * one key, in one Cluster slot.
 *
 * Time is Redis's own clock (`TIME`), so nodes with skewed clocks still share windows exactly;
 * ARGV[4] may pin it (tests). Numbers are written with %.17g: Lua's default %.14g would round
 * millisecond timestamps with fractions (token bucket).
 *
 * KEYS[1] the client's hash
 * ARGV    algorithm (1 fixed, 2 sliding, 3 token), n windows, mode (1 consume, 2 refund), now
 *         (0 = TIME), then per window: period code, size ms, limit, capacity, ms per token
 * returns {refused, retry ms, remaining₁, reset ms₁, …} (the layout of `Verdict`), or 0 (refund)
 */
export const CALENDAR_LUA = `
local function civil(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m
end

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- calendar window of a period code containing now (UTC): start, end
local function fixed_bounds(code, size, now)
  if code <= 4 then
    local start = now - now % size
    return start, start + size
  end
  local y, m = civil(math.floor(now / 86400000))
  if code == 5 then
    local ny, nm = y, m + 1
    if nm > 12 then ny, nm = y + 1, 1 end
    return days_from_civil(y, m, 1) * 86400000, days_from_civil(ny, nm, 1) * 86400000
  end
  return days_from_civil(y, 1, 1) * 86400000, days_from_civil(y + 1, 1, 1) * 86400000
end
`

/**
 * The part both scripts share (this one and `lease-lua.ts`, which read and write the same hash
 * fields): the windows from ARGV (five arguments each, the first at `ARGV[base + 1]`), their
 * field names per algorithm, and their current state read in one HMGET. Defines `EPS`, `num`,
 * `w`, `fields`, `st` and `stride` for the rest of the script.
 */
export function windowsLua(base: number): string {
  return `local EPS = 1e-9
local function num(x) return string.format('%.17g', x) end

local w, fields = {}, {}
for i = 1, n do
  local a = ${base} + (i - 1) * 5
  local c = ARGV[a + 1]
  w[i] = { code = tonumber(c), size = tonumber(ARGV[a + 2]), limit = tonumber(ARGV[a + 3]),
           cap = tonumber(ARGV[a + 4]), interval = tonumber(ARGV[a + 5]) }
  if algo == 1 then
    fields[#fields + 1] = 'f' .. c .. 's'
    fields[#fields + 1] = 'f' .. c .. 'c'
  elseif algo == 2 then
    fields[#fields + 1] = 's' .. c .. 's'
    fields[#fields + 1] = 's' .. c .. 'c'
    fields[#fields + 1] = 's' .. c .. 'p'
  else
    fields[#fields + 1] = 't' .. c
  end
end
local raw = redis.call('HMGET', key, unpack(fields))
local st = {}
for i = 1, #fields do st[i] = tonumber(raw[i]) or 0 end
local stride = (algo == 1 and 2) or (algo == 2 and 3) or 1
`
}

export const RATE_LIMIT_LUA = `${CALENDAR_LUA}
local key = KEYS[1]
local algo = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local mode = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
${windowsLua(4)}
if mode == 2 then
  local set = {}
  for i = 1, n do
    local o, x = (i - 1) * stride + 1, w[i]
    if algo == 1 then
      if st[o] == fixed_bounds(x.code, x.size, now) and st[o + 1] > 0 then
        set[#set + 1] = fields[o + 1]; set[#set + 1] = num(st[o + 1] - 1)
      end
    elseif algo == 2 then
      if st[o] == now - now % x.size and st[o + 1] > 0 then
        set[#set + 1] = fields[o + 1]; set[#set + 1] = num(st[o + 1] - 1)
      end
    elseif st[o] > now then
      set[#set + 1] = fields[o]; set[#set + 1] = num(math.max(now, st[o] - x.interval))
    end
  end
  if #set > 0 then redis.call('HSET', key, unpack(set)) end
  return 0
end

local out = { 0, 0 }
local refused, retry = 0, 0
for i = 1, n do
  local o, x = (i - 1) * stride + 1, w[i]
  local remaining, reset, wait = 0, 0, 0
  if algo == 1 then
    local start, finish = fixed_bounds(x.code, x.size, now)
    local count = 0
    if st[o] == start then count = st[o + 1] end
    reset = finish - now
    if count + 1 > x.limit then
      remaining = math.max(0, math.floor(x.limit - count))
      wait = reset
    else
      remaining = math.floor(x.limit - count)
    end
  elseif algo == 2 then
    local size = x.size
    local cur = now - now % size
    local prev, curr = 0, 0
    if st[o] == cur then prev, curr = st[o + 2], st[o + 1]
    elseif st[o] == cur - size then prev = st[o + 1] end
    local elapsed = now - cur
    local estimate = prev * (size - elapsed) / size + curr
    reset = size - elapsed
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
    if now + EPS < allow_at then
      wait = allow_at - now
      reset = tat - now
    else
      remaining = math.floor((now - allow_at) / x.interval + EPS) + 1
      reset = nxt - now
    end
  end
  out[1 + 2 * i] = remaining
  out[2 + 2 * i] = math.ceil(reset)
  if wait > 0 and (refused == 0 or wait >= retry) then
    refused, retry = i, wait
  end
end
out[1], out[2] = refused, math.ceil(retry)
if refused ~= 0 then return out end

local set, expires = {}, 0
for i = 1, n do
  local o, x = (i - 1) * stride + 1, w[i]
  out[1 + 2 * i] = out[1 + 2 * i] - 1
  if algo == 1 then
    local start, finish = fixed_bounds(x.code, x.size, now)
    local count = 1
    if st[o] == start then count = st[o + 1] + 1 end
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
    set[#set + 1] = fields[o + 1]; set[#set + 1] = num(curr + 1)
    set[#set + 1] = fields[o + 2]; set[#set + 1] = num(prev)
    expires = math.max(expires, cur + 2 * size)
  else
    local nxt = math.max(st[o], now) + x.interval
    set[#set + 1] = fields[o]; set[#set + 1] = num(nxt)
    expires = math.max(expires, nxt)
  end
end
redis.call('HSET', key, unpack(set))
redis.call('PEXPIRE', key, math.ceil(expires - now) + 1000)
return out
`
