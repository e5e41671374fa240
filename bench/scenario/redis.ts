import { Redis } from 'ioredis'

/** What Redis did during one run: deltas of `INFO stats` and `INFO commandstats`. */
export interface RedisDelta {
  keyspaceHits: number
  keyspaceMisses: number
  /** commands Redis processed during the run, our own INFO calls excluded */
  commands: number
  /** commands / requests of the run */
  commandsPerRequest: number
  /** calls per command name (`get`, `evalsha`, …), busiest first; INFO itself excluded */
  byCommand: Array<{ command: string; calls: number }>
}

interface Snapshot {
  hits: number
  misses: number
  total: number
  calls: Map<string, number>
}

/** `key:value` lines of an INFO section. */
function fields(info: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of info.split(/\r?\n/)) {
    const at = line.indexOf(':')
    if (at > 0 && !line.startsWith('#')) out.set(line.slice(0, at), line.slice(at + 1))
  }
  return out
}

/**
 * Reads Redis' counters around a run. INFO is two commands per snapshot; the delta leaves them
 * out, so `commandsPerRequest` is what the gateway cost Redis per request.
 *
 * @example
 *   const probe = await RedisProbe.connect('redis://127.0.0.1:6379')
 *   const before = await probe.snapshot()
 *   // … run …
 *   const delta = probe.delta(before, await probe.snapshot(), result.requests)
 */
export class RedisProbe {
  private constructor(private readonly client: Redis) {}

  static async connect(url: string): Promise<RedisProbe> {
    const u = new URL(url)
    const client = new Redis({
      host: u.hostname || '127.0.0.1',
      port: Number(u.port || 6379),
      db: Number(u.pathname.slice(1) || 0),
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      tls: u.protocol === 'rediss:' ? {} : undefined,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    })
    client.on('error', () => {})
    await client.connect()
    return new RedisProbe(client)
  }

  async snapshot(): Promise<Snapshot> {
    const stats = fields(await this.client.info('stats'))
    const cmd = fields(await this.client.info('commandstats'))
    const calls = new Map<string, number>()
    for (const [k, v] of cmd) {
      const m = /^cmdstat_(.+)$/.exec(k)
      const c = /(?:^|,)calls=(\d+)/.exec(v)
      if (m && c) calls.set(m[1]!, Number(c[1]))
    }
    return {
      hits: Number(stats.get('keyspace_hits') ?? 0),
      misses: Number(stats.get('keyspace_misses') ?? 0),
      total: Number(stats.get('total_commands_processed') ?? 0),
      calls,
    }
  }

  delta(before: Snapshot, after: Snapshot, requests: number): RedisDelta {
    // the first snapshot's two INFO commands are counted after they ran
    const commands = Math.max(0, after.total - before.total - 2)
    const byCommand = [...after.calls]
      .map(([command, calls]) => ({ command, calls: calls - (before.calls.get(command) ?? 0) }))
      .filter((c) => c.calls > 0 && c.command !== 'info')
      .sort((a, b) => b.calls - a.calls)
    return {
      keyspaceHits: after.hits - before.hits,
      keyspaceMisses: after.misses - before.misses,
      commands,
      commandsPerRequest: requests > 0 ? commands / requests : 0,
      byCommand,
    }
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect())
  }
}
