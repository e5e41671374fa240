/**
 * The redis policy's semaphore: one sorted set per scope, `<prefix>rq:{<plugin id>:<scope>}`,
 * whose members are lease ids (`<node tag>:<n>`) scored by when they expire (Redis's own
 * clock, `TIME`, so nodes with skewed clocks agree). Expired members are dropped before
 * counting, so the slots of a node that died come back once its leases run out. The key itself
 * expires a little after its longest lease.
 */

/**
 * Takes up to #ARGV - 2 slots at once (one per lease id given), as many as are free.
 * KEYS[1] the set. ARGV: limit, lease ms, lease id… Returns how many were taken: the first n ids.
 */
export const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local free = limit - redis.call('ZCARD', KEYS[1])
local n = math.min(free, #ARGV - 2)
if n <= 0 then return 0 end
local add = {}
for i = 1, n do
  add[#add + 1] = now + lease
  add[#add + 1] = ARGV[2 + i]
end
redis.call('ZADD', KEYS[1], unpack(add))
redis.call('PEXPIRE', KEYS[1], lease + 1000)
return n
`

/**
 * Gives slots back, and says whether the set was full before: only then does the caller
 * publish that a slot is free (their waiters ask for it), so a release nobody can be waiting
 * for costs no fan-out. (The caller publishes: on Cluster a script may not publish to a
 * channel of another slot.)
 * KEYS[1] the set. ARGV: limit, lease id… Returns 1 when a notice is due, else 0.
 */
export const RELEASE_LUA = `
local before = redis.call('ZCARD', KEYS[1])
local removed = redis.call('ZREM', KEYS[1], unpack(ARGV, 2))
if removed > 0 and before >= tonumber(ARGV[1]) then return 1 end
return 0
`

/**
 * Extends the leases of requests still running. A lease that expired meanwhile (this node
 * stalled) is written back: its request is still upstream, so counting it keeps the set true
 * to what is in flight, even if that briefly exceeds the limit.
 * KEYS[1] the set. ARGV: lease ms, lease id… Returns how many were missing.
 */
export const RENEW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local add = {}
for i = 2, #ARGV do
  add[#add + 1] = now + lease
  add[#add + 1] = ARGV[i]
end
local added = redis.call('ZADD', KEYS[1], unpack(add))
redis.call('PEXPIRE', KEYS[1], lease + 1000)
return added
`
