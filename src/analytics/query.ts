import type { Analytics } from './analytics.js'
import { mergeBins, quantile } from './sketch.js'
import { largest } from './top.js'

/** One entity's counters over some buckets (the fields a flush writes, see analytics.ts). */
export class Totals {
  n = 0
  readonly classes = [0, 0, 0, 0, 0, 0]
  bytesIn = 0
  bytesOut = 0
  rateLimited = 0
  cacheHits = 0
  readonly bins = new Map<number, number>()

  /** adds a stored hash: `n`, `c0`…`c5`, `bi`, `bo`, `rl`, `ch`, `b<bin>` */
  add(hash: ReadonlyMap<string, number>): this {
    for (const [f, v] of hash) {
      if (f === 'n') this.n += v
      else if (f === 'bi') this.bytesIn += v
      else if (f === 'bo') this.bytesOut += v
      else if (f === 'rl') this.rateLimited += v
      else if (f === 'ch') this.cacheHits += v
      else if (f[0] === 'c') this.classes[Number(f.slice(1))]! += v
      else if (f[0] === 'b') this.bins.set(Number(f.slice(1)), (this.bins.get(Number(f.slice(1))) ?? 0) + v)
    }
    return this
  }

  merge(other: Totals): void {
    this.n += other.n
    for (let i = 0; i < 6; i++) this.classes[i]! += other.classes[i]!
    this.bytesIn += other.bytesIn
    this.bytesOut += other.bytesOut
    this.rateLimited += other.rateLimited
    this.cacheHits += other.cacheHits
    mergeBins(this.bins, other.bins)
  }

  metric(name: Metric, seconds: number): number | null {
    const ratio = (a: number) => (this.n === 0 ? null : a / this.n)
    const q = (p: number) => (this.n === 0 ? null : round(quantile(this.bins, p)))
    switch (name) {
      case 'requests':
        return this.n
      case 'rate':
        return round(this.n / seconds)
      case 'errors':
        return this.classes[4]! + this.classes[5]!
      case 'error_rate':
        return ratio(this.classes[4]! + this.classes[5]!)
      case 'server_errors':
        return this.classes[5]!
      case 'status_2xx':
        return this.classes[2]!
      case 'status_3xx':
        return this.classes[3]!
      case 'status_4xx':
        return this.classes[4]!
      case 'status_5xx':
        return this.classes[5]!
      case 'p50':
        return q(0.5)
      case 'p95':
        return q(0.95)
      case 'p99':
        return q(0.99)
      case 'bytes_in':
        return this.bytesIn
      case 'bytes_out':
        return this.bytesOut
      case 'rate_limited':
        return this.rateLimited
      case 'cache_hits':
        return this.cacheHits
      case 'cache_hit_ratio':
        return ratio(this.cacheHits)
    }
  }

  /** the summary's shape */
  describe(seconds: number): Record<string, unknown> {
    return {
      requests: this.n,
      rate_per_s: this.metric('rate', seconds),
      status: {
        '1xx': this.classes[1],
        '2xx': this.classes[2],
        '3xx': this.classes[3],
        '4xx': this.classes[4],
        '5xx': this.classes[5],
        other: this.classes[0],
      },
      error_rate: this.metric('error_rate', seconds),
      server_error_rate: this.n === 0 ? null : this.classes[5]! / this.n,
      latency_ms: {
        p50: this.metric('p50', seconds),
        p95: this.metric('p95', seconds),
        p99: this.metric('p99', seconds),
      },
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
      rate_limited: this.rateLimited,
      cache_hits: this.cacheHits,
      cache_hit_ratio: this.metric('cache_hit_ratio', seconds),
    }
  }
}

export const METRICS = [
  'requests',
  'rate',
  'errors',
  'error_rate',
  'server_errors',
  'status_2xx',
  'status_3xx',
  'status_4xx',
  'status_5xx',
  'p50',
  'p95',
  'p99',
  'bytes_in',
  'bytes_out',
  'rate_limited',
  'cache_hits',
  'cache_hit_ratio',
] as const
export type Metric = (typeof METRICS)[number]

export const TOP_BY = ['consumer', 'route', 'path'] as const
export type TopBy = (typeof TOP_BY)[number]

const round = (v: number) => Math.round(v * 1000) / 1000

/** `all`, `service:NAME`, `route:NAME`, `consumer:NAME` → the stored entity key */
export function entityKey(entity: string): string | null {
  if (entity === 'all' || entity === '') return '*'
  const m = /^(service|route|consumer):(.+)$/.exec(entity)
  return m === null ? null : `${m[1]![0]}:${m[2]}`
}

/** A range of buckets: start (seconds, aligned) and count, on the fine or the hour tier. */
interface Span {
  tier: 'fine' | 'hour'
  size: number
  first: number
  count: number
}

function span(tier: 'fine' | 'hour', size: number, fromSec: number, toSec: number): Span {
  const first = Math.floor(fromSec / size) * size
  return { tier, size, first, count: Math.max(0, Math.ceil((toSec - first) / size)) }
}

async function read(a: Analytics, s: Span, entity: string): Promise<Totals[]> {
  const keys: string[] = []
  for (let i = 0; i < s.count; i++) {
    const at = s.first + i * s.size
    keys.push(s.tier === 'fine' ? a.keys.fine(at, entity) : a.keys.hour(at / 3600, entity))
  }
  return (await a.options.backend.hashes(keys)).map((h) => new Totals().add(h))
}

/** most buckets one query reads */
export const MAX_BUCKETS = 1500

/**
 * Totals of one entity over [fromSec, toSec): fine buckets when they cover the range within
 * their retention and bound, hour buckets otherwise.
 */
export async function totals(a: Analytics, entity: string, fromSec: number, toSec: number) {
  const res = a.settings.resolutionSec
  const fineFrom = a.now() / 1000 - a.settings.fineRetentionSec
  let s = span('fine', res, fromSec, toSec)
  if (s.count > MAX_BUCKETS || fromSec < fineFrom) s = span('hour', 3600, fromSec, toSec)
  const sum = new Totals()
  for (const t of await read(a, s, entity)) sum.merge(t)
  const seconds = Math.max(1, Math.min(toSec, a.now() / 1000) - s.first)
  return { totals: sum, from: s.first, to: s.first + s.count * s.size, seconds }
}

/** One point per `stepSec` over [fromSec, toSec) of one metric. */
export async function timeseries(
  a: Analytics,
  entity: string,
  metric: Metric,
  fromSec: number,
  toSec: number,
  stepSec: number,
): Promise<Array<[number, number | null]>> {
  const hourly = stepSec % 3600 === 0
  const s = span(hourly ? 'hour' : 'fine', hourly ? 3600 : a.settings.resolutionSec, fromSec, toSec)
  const buckets = await read(a, s, entity)
  const per = stepSec / s.size
  const points: Array<[number, number | null]> = []
  for (let i = 0; i < buckets.length; i += per) {
    const t = new Totals()
    for (const b of buckets.slice(i, i + per)) t.merge(b)
    const at = s.first + i * s.size
    const seconds = Math.max(1, Math.min(at + stepSec, a.now() / 1000) - at)
    points.push([at, t.metric(metric, seconds)])
  }
  return points
}

/** The heaviest consumers, routes or paths over the hours that overlap [fromSec, toSec). */
export async function top(a: Analytics, by: TopBy, fromSec: number, toSec: number, limit: number) {
  const s = span('hour', 3600, fromSec, toSec)
  const keys: string[] = []
  for (let i = 0; i < Math.min(s.count, MAX_BUCKETS); i++) keys.push(a.keys.top(by, s.first / 3600 + i))
  const sum = new Map<string, number>()
  for (const z of await a.options.backend.zsets(keys))
    for (const [m, n] of z) sum.set(m, (sum.get(m) ?? 0) + n)
  return largest(sum, limit).map(([name, requests]) => ({ name, requests }))
}

/** Distinct clients this hour and today (UTC). */
export async function uniqueClients(a: Analytics) {
  const hour = Math.floor(a.now() / 3_600_000)
  const backend = a.options.backend
  return {
    hour: await backend.uniques([a.keys.uniquesHour(hour)]),
    day: await backend.uniques([a.keys.uniquesDay(Math.floor(hour / 24))]),
  }
}

/** Every node that flushed recently, with its config generation. */
export async function nodes(a: Analytics) {
  const fresh = a.now() - Math.max(60_000, 3 * a.settings.flushMs)
  return (await a.options.backend.nodes())
    .map((line) => JSON.parse(line) as { node_id: string; seen_at: number })
    .filter((n) => n.seen_at >= fresh)
    .sort((x, y) => (x.node_id < y.node_id ? -1 : 1))
}
