import type { RedisArg, RedisCallOptions, RedisConnection, RedisScript } from '../../core/services.js'
import { Listeners } from '../listeners.js'
import type { Instance, Registration, RegistryBackend } from './types.js'

// Every script runs on Redis's clock (TIME), so nodes with skewed clocks agree on expiries.
// Keys (one hash slot, `{registry}`): 1 instances (field service/id → JSON), 2 last seen (ms),
// 3 expiry zset (score = ms), 4 url index (field "service url" → id).
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`
const REMOVE = `
local function remove(field)
  local raw = redis.call('HGET', KEYS[1], field)
  if not raw then return 0 end
  local inst = cjson.decode(raw)
  redis.call('HDEL', KEYS[1], field)
  redis.call('HDEL', KEYS[2], field)
  redis.call('ZREM', KEYS[3], field)
  redis.call('HDEL', KEYS[4], inst.service .. ' ' .. inst.url)
  return 1
end`

const SCRIPTS = {
  // ARGV: service, id, url, health_path ('' = none), ttl (s)
  porticoRegister: `${NOW}
${REMOVE}
local ttl = tonumber(ARGV[5])
local id = redis.call('HGET', KEYS[4], ARGV[1] .. ' ' .. ARGV[3])
local created = 0
local field
if id then
  -- an expired registration not swept yet is gone: this one starts afresh
  local expires = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1] .. '/' .. id))
  if not expires or expires <= now then
    remove(ARGV[1] .. '/' .. id)
    id = nil
  end
end
if id then
  field = ARGV[1] .. '/' .. id
  local inst = cjson.decode(redis.call('HGET', KEYS[1], field))
  inst.ttl = ttl
  inst.health_path = ARGV[4]
  redis.call('HSET', KEYS[1], field, cjson.encode(inst))
else
  id = ARGV[2]
  created = 1
  field = ARGV[1] .. '/' .. id
  redis.call('HSET', KEYS[1], field, cjson.encode({ id = id, service = ARGV[1], url = ARGV[3],
    health_path = ARGV[4], ttl = ttl, registered_at = now }))
  redis.call('HSET', KEYS[4], ARGV[1] .. ' ' .. ARGV[3], id)
end
redis.call('HSET', KEYS[2], field, now)
redis.call('ZADD', KEYS[3], now + ttl * 1000, field)
return { id, created }`,
  // ARGV: field, ttl ('' = keep)
  porticoRenew: `${NOW}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local expires = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]))
if not expires or expires <= now then return 0 end
local inst = cjson.decode(raw)
local ttl = tonumber(ARGV[2])
if ttl then
  inst.ttl = ttl
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(inst))
end
redis.call('HSET', KEYS[2], ARGV[1], now)
redis.call('ZADD', KEYS[3], now + inst.ttl * 1000, ARGV[1])
return 1`,
  // ARGV: field
  porticoDeregister: `${REMOVE}
return remove(ARGV[1])`,
  porticoSweep: `${NOW}
${REMOVE}
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, field in ipairs(expired) do remove(field) end
return #expired`,
  porticoList: `${NOW}
return { now, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]),
  redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES') }`,
} as const

type Keys = [string, string, string, string]
type ScriptName = keyof typeof SCRIPTS

function pairs(flat: string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, flat[i + 1] as string)
  return out
}

/**
 * The registry shared by every node (redis mode): instances in one hash slot, written by Lua
 * scripts (one atomic step each), changes announced on `{prefix}{registry}:changes` (same slot: sharded pub/sub on Cluster).
 *
 * @example
 *   const backend = new SharedRegistry({ redis: services.redis(), keyPrefix: 'portico:' })
 */
export class SharedRegistry implements RegistryBackend {
  readonly kind = 'redis'
  readonly #keys: Keys
  readonly #channel: string
  readonly #redis: RedisConnection
  readonly #scripts: Record<ScriptName, RedisScript<unknown>>
  /** registry calls are admin and background work: a longer deadline, past the request breaker */
  readonly #opts: RedisCallOptions = { deadlineMs: 2000, background: true }
  readonly #unsubscribe: () => void
  readonly #listeners = new Listeners<[]>()

  constructor(options: { redis: RedisConnection; keyPrefix: string }) {
    const base = `${options.keyPrefix}{registry}`
    this.#keys = [`${base}:instances`, `${base}:seen`, `${base}:expiry`, `${base}:urls`]
    this.#channel = `${base}:changes`
    this.#redis = options.redis
    const scripts = {} as Record<ScriptName, RedisScript<unknown>>
    for (const [name, lua] of Object.entries(SCRIPTS) as Array<[ScriptName, string]>)
      scripts[name] = this.#redis.script(`registry-${name}`, lua, 4)
    this.#scripts = scripts
    this.#unsubscribe = this.#redis.listen(
      this.#channel,
      () => this.#listeners.emit(),
      () => this.#listeners.emit(),
    )
  }

  #run<R>(name: ScriptName, ...args: RedisArg[]): Promise<R> {
    return this.#scripts[name].run([...this.#keys, ...args], this.#opts) as Promise<R>
  }

  #announce(what: string): Promise<void> {
    return this.#redis.publish(this.#channel, what, this.#opts).catch(() => {})
  }

  async register(r: Registration, id: string): Promise<{ instance: Instance; created: boolean }> {
    const [actual, created] = await this.#run<[string, number]>(
      'porticoRegister',
      r.service,
      id,
      r.url,
      r.health_path ?? '',
      r.ttl,
    )
    await this.#announce('register')
    const instance = (await this.list()).instances.find((i) => i.service === r.service && i.id === actual)
    if (instance === undefined) throw new Error('the registered instance could not be read back')
    return { instance, created: created === 1 }
  }

  async renew(service: string, id: string, ttl: number | undefined): Promise<Instance | null> {
    const ok = await this.#run<number>(
      'porticoRenew',
      `${service}/${id}`,
      ttl === undefined ? '' : String(ttl),
    )
    if (ok !== 1) return null
    return (await this.list()).instances.find((i) => i.service === service && i.id === id) ?? null
  }

  async deregister(service: string, id: string): Promise<boolean> {
    const removed = (await this.#run<number>('porticoDeregister', `${service}/${id}`)) === 1
    if (removed) await this.#announce('deregister')
    return removed
  }

  async list(): Promise<{ now: number; instances: Instance[] }> {
    const [now, rawInstances, rawSeen, rawExpiry] =
      await this.#run<[number, string[], string[], string[]]>('porticoList')
    const seen = pairs(rawSeen)
    const expiry = pairs(rawExpiry)
    const instances: Instance[] = []
    for (const [field, json] of pairs(rawInstances)) {
      const expires = Number(expiry.get(field))
      if (!(expires > now)) continue
      const i = JSON.parse(json) as Omit<Instance, 'last_seen' | 'expires_at'> & { health_path: string }
      instances.push({
        ...i,
        health_path: i.health_path === '' ? null : i.health_path,
        last_seen: Number(seen.get(field) ?? i.registered_at),
        expires_at: expires,
      })
    }
    return { now: Number(now), instances }
  }

  async sweep(): Promise<number> {
    const n = await this.#run<number>('porticoSweep')
    if (n > 0) await this.#announce('expired')
    return n
  }

  watch(listener: () => void): void {
    this.#listeners.add(listener)
  }

  /** Stops listening (the connection belongs to the node's services). */
  async close(): Promise<void> {
    this.#listeners.clear()
    this.#unsubscribe()
  }
}
