/**
 * Every command Portico sends to Redis, those its Lua scripts call included (Redis checks a
 * script's calls against the caller's ACL too). The README's ACL line is built from this list,
 * and test/redis/tls-acl.test.ts runs every feature as a user allowed exactly these.
 */
export const PORTICO_REDIS_COMMANDS = [
  // connection: ready check, subscriber name, database, Cluster topology
  'ping',
  'info',
  'client|setname',
  'select',
  'readonly',
  'cluster|slots',
  'cluster|nodes',
  // scripts (by SHA, EVAL after NOSCRIPT) and the commands they call
  'evalsha',
  'eval',
  'time',
  'get',
  'set',
  'del',
  'unlink',
  'exists',
  'strlen',
  'incr',
  'pexpire',
  'hget',
  'hmget',
  'hset',
  'hdel',
  'hgetall',
  'zadd',
  'zcard',
  'zrange',
  'zrangebyscore',
  'zrem',
  'zremrangebyrank',
  'zremrangebyscore',
  'zscore',
  // usage analytics: counters, heavy hitters and unique clients flushed by every node
  'hincrby',
  'zincrby',
  'expire',
  'pfadd',
  'pfcount',
  // proxy-cache's status and purge walk their own keys
  'scan',
  // pub/sub (sharded on Cluster)
  'publish',
  'spublish',
  'subscribe',
  'ssubscribe',
  'unsubscribe',
  'sunsubscribe',
] as const

/**
 * The ACL rule for Portico's user: its keys and channels (`prefix*`) and only its commands.
 *
 * @example
 *   aclRule('portico:') // → 'on ~portico:* &portico:* -@all +ping +info …'
 */
export function aclRule(prefix: string): string {
  return `on ~${prefix}* &${prefix}* -@all ${PORTICO_REDIS_COMMANDS.map((c) => `+${c}`).join(' ')}`
}
