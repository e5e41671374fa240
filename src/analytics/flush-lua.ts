/**
 * One flush chunk in one script call. A flush used to send one HINCRBY per field per key (a
 * latency sketch alone has a few hundred bins, so ~1,200 commands per flush on one route), each a
 * pending call held for the background deadline; now a chunk of up to {@link CHUNK_UPDATES}
 * updates is one call. Every analytics key carries the `{analytics}` tag (one Cluster slot), so
 * one script may touch them all; KEYS[1] is the node-lines hash, the other keys are in ARGV.
 *
 * ARGV is a list of records:
 *   h <key> <ttl> <n> (<field> <by>)×n     HINCRBY each field, EXPIRE
 *   z <key> <ttl> <keep> <n> (<member> <by>)×n   ZINCRBY each, keep the largest, EXPIRE
 *   n <field> <value> <ttl>               HSET KEYS[1] field value, EXPIRE
 */
export const FLUSH_LUA = `
local a = 1
while a <= #ARGV do
  local kind = ARGV[a]
  if kind == 'h' then
    local key, ttl, n = ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
    a = a + 4
    for i = 1, n do
      redis.call('HINCRBY', key, ARGV[a], ARGV[a + 1])
      a = a + 2
    end
    redis.call('EXPIRE', key, ttl)
  elseif kind == 'z' then
    local key, ttl, keep, n = ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
    a = a + 5
    for i = 1, n do
      redis.call('ZINCRBY', key, ARGV[a + 1], ARGV[a])
      a = a + 2
    end
    redis.call('ZREMRANGEBYRANK', key, 0, -(keep + 1))
    redis.call('EXPIRE', key, ttl)
  elseif kind == 'n' then
    redis.call('HSET', KEYS[1], ARGV[a + 1], ARGV[a + 2])
    redis.call('EXPIRE', KEYS[1], ARGV[a + 3])
    a = a + 4
  else
    return redis.error_reply('analytics flush: unknown record ' .. tostring(kind))
  end
end
return 1
`

/**
 * Updates per script call: a call of this size runs in about a millisecond on Redis, so a large
 * flush never holds Redis (and every other node's rate-limit scripts) for long.
 */
export const CHUNK_UPDATES = 2000
