import { access, constants, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import type { CheckFn } from './exchange.js'
import type { LoadOptions } from './load.js'
import { compileRequest, type RequestSpec } from './request.js'
import { parseThresholds, type Threshold } from './thresholds.js'

/**
 * A command line that cannot run; `runBenchCli` prints it with the usage and exits 2.
 *
 * @example
 *   throw new UsageError('missing URL')
 */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const USAGE = `usage: portico bench URL [options]
       portico bench scenario NAME [options]   (baseline-vs-optimized, rate-limit, cache, inference;
                                                 portico bench scenario --help)

  --vus N              closed loop: N virtual users back to back (default 10)
  --rate N             open loop: N requests per second, whatever the responses do
  --max-vus N          open loop: most requests in flight (default 100); arrivals beyond are dropped
  -d, --duration T     how long to load: 30s, 2m, 500ms, 1m30s (default 10s)
  -m, --method M       HTTP method (default GET, or POST with a body)
  -H, --header 'k: v'  request header, repeatable
  --body STR           request body; --body-file F reads it from a file
  --check EXPR         count responses passing: status=200, status=2xx, header:x-cache=HIT,
                       header:etag (present), body~text (contains); repeatable
  --expect-status S    statuses that are not failures (default 2xx,3xx), e.g. 200,429
  --threshold EXPR     fail (exit 1) unless it holds: p95<200, p(99)<=500, avg<100, max<1s,
                       failed<0.001, rate>100, checks>0.99; repeatable
  --timeout T          per-request timeout (default 60s)
  -o, --out FILE       write the result as JSON
  -q, --quiet          no progress line
URL, header values and body may use {{i}} {{vu}} {{rand:N}} {{uuid}}, expanded per request.
`

/**
 * Seconds in a k6-style duration: `500ms`, `30s`, `2m`, `1h`, `1m30s`; a bare number is seconds.
 *
 * @example
 *   parseDuration('1m30s') // 90
 *   parseDuration('500ms') // 0.5
 */
export function parseDuration(text: string): number {
  const t = text.trim()
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t)
  if (!/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(t)) {
    throw new UsageError(`invalid duration ${JSON.stringify(text)}: use e.g. 500ms, 30s, 2m, 1m30s`)
  }
  const scale: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 }
  let total = 0
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(m[1]) * scale[m[2]!]!
  return total
}

/**
 * A status matcher from `200`, `200,201`, `2xx` or `2xx,404`.
 *
 * @example
 *   parseStatuses('2xx,404')(404) // true
 */
export function parseStatuses(text: string): (status: number) => boolean {
  const tests = text.split(',').map((p) => {
    const s = p.trim().toLowerCase()
    if (/^[1-5]xx$/.test(s)) return (n: number) => Math.floor(n / 100) === Number(s[0])
    if (/^[1-5]\d\d$/.test(s)) return (n: number) => n === Number(s)
    throw new UsageError(`invalid status ${JSON.stringify(p)}: use e.g. 200, 2xx, 200,404`)
  })
  return (n) => tests.some((t) => t(n))
}

/**
 * A check from its command-line form; its name is the expression itself.
 *
 * @example
 *   parseCheck('header:x-cache=HIT')({ status: 200, headers: { 'x-cache': 'HIT' }, body: '' }) // true
 */
export function parseCheck(expr: string): CheckFn {
  const m = /^(status|body|header:([^=~!]+))\s*(!=|=|~)?(.*)$/i.exec(expr.trim())
  if (!m || (m[3] === undefined && !m[2]) || (m[1]!.toLowerCase() === 'status' && m[3] === '~')) {
    throw new UsageError(
      `invalid check ${JSON.stringify(expr)}: use status=200, status!=5xx, header:name=value, body~text`,
    )
  }
  const [, kind, header, op, arg = ''] = m
  const test = (s: string) => (op === '~' ? s.includes(arg) : op === '!=' ? s !== arg : s === arg)
  if (header !== undefined) {
    const name = header.trim().toLowerCase()
    return (r) => {
      const v = r.headers[name]
      const value = Array.isArray(v) ? v.join(', ') : v
      return value !== undefined && (op === undefined || test(value))
    }
  }
  if (kind!.toLowerCase() === 'body') return (r) => test(r.body)
  const match = parseStatuses(arg)
  return op === '!=' ? (r) => !match(r.status) : (r) => match(r.status)
}

/** What a bench command line asks for. */
export interface BenchArgs {
  load: LoadOptions
  thresholds: Threshold[]
  out: string | undefined
  quiet: boolean
}

const count = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${v}`)
  return n
}

/**
 * Parses `portico bench` arguments (everything after `bench`); `'help'` for -h/--help.
 *
 * @example
 *   const args = await parseBenchArgs(['http://127.0.0.1:8000/', '--vus', '50', '-d', '30s'])
 *   // args.load: { request: { url, method: 'GET', … }, vus: 50, duration: 30, … }
 */
export async function parseBenchArgs(argv: string[]): Promise<BenchArgs | 'help'> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values: v, positionals } = parsed
  if (v.help) return 'help'
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'one URL only' : 'missing URL')
  if (v.body !== undefined && v['body-file'] !== undefined) {
    throw new UsageError('--body or --body-file, not both')
  }
  if (v.rate !== undefined && v.vus !== undefined) {
    throw new UsageError('--vus is for a closed loop; with --rate use --max-vus')
  }
  if (v.rate === undefined && v['max-vus'] !== undefined) throw new UsageError('--max-vus needs --rate')
  const rate = v.rate === undefined ? undefined : Number(v.rate)
  if (rate !== undefined && !(rate > 0 && Number.isFinite(rate))) {
    throw new UsageError(`--rate must be positive, got ${v.rate}`)
  }
  const duration = parseDuration(v.duration ?? '10s')
  const timeout = parseDuration(v.timeout ?? '60s')
  if (!(duration > 0) || !(timeout > 0)) {
    throw new UsageError('--duration and --timeout must be more than zero')
  }

  const headers: Record<string, string> = {}
  for (const h of v.header ?? []) {
    const at = h.indexOf(':')
    if (at < 1) throw new UsageError(`invalid header ${JSON.stringify(h)}: use 'name: value'`)
    headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim()
  }
  const body = v['body-file'] === undefined ? v.body : await readBody(v['body-file'])
  if (body !== undefined && headers['content-type'] === undefined && looksLikeJson(body)) {
    headers['content-type'] = 'application/json'
  }
  const request: RequestSpec = {
    url: positionals[0]!,
    method: v.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
  }
  if (body !== undefined) request.body = body
  try {
    compileRequest(request)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (v.out !== undefined) await writable(v.out)

  const checks = Object.fromEntries((v.check ?? []).map((c) => [c, parseCheck(c)]))
  const load: LoadOptions = { request, duration, timeout: timeout * 1000, checks }
  if (rate === undefined) load.vus = count(v.vus, '--vus') ?? 10
  else {
    load.rate = rate
    load.maxVus = count(v['max-vus'], '--max-vus') ?? 100
  }
  if (v['expect-status'] !== undefined) load.expectStatus = parseStatuses(v['expect-status'])
  return { load, thresholds: parseThresholds(v.threshold ?? []), out: v.out, quiet: v.quiet ?? false }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      vus: { type: 'string' },
      rate: { type: 'string' },
      'max-vus': { type: 'string' },
      duration: { type: 'string', short: 'd' },
      method: { type: 'string', short: 'm' },
      header: { type: 'string', short: 'H', multiple: true },
      body: { type: 'string' },
      'body-file': { type: 'string' },
      check: { type: 'string', multiple: true },
      'expect-status': { type: 'string' },
      threshold: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      out: { type: 'string', short: 'o' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

async function readBody(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read --body-file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
}

function looksLikeJson(body: string): boolean {
  const t = body.trim()
  if (!t.startsWith('{') && !t.startsWith('[')) return false
  try {
    JSON.parse(t)
    return true
  } catch {
    return false
  }
}

/** Fails before the run, not after it, when the report could not be written. */
async function writable(file: string): Promise<void> {
  try {
    await access(dirname(file), constants.W_OK)
  } catch {
    throw new UsageError(`cannot write --out ${file}: its directory is missing or read-only`)
  }
}
