/**
 * Router micro-benchmark: builds 5,000 routes shaped like a real multi-team gateway config and
 * times lookups by kind (hits at several depths, regex, wildcard host, misses).
 *
 *   npm run build && node dist/bench/router.js [routes] [lookups-per-run]
 *
 * Figures are ns per lookup, median of several runs after a warm-up; build time is the median of
 * several builds. A benchmark prints figures; nothing here asserts on timing (DESIGN §4).
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { RouteEntity } from '../src/core/entities.js'
import { normalizePath } from '../src/data-plane/router/normalize.js'
import { buildRouter } from '../src/data-plane/router/router.js'
import { makeRoute } from '../src/data-plane/router/testing.js'
import type { RouterEntry } from '../src/data-plane/router/types.js'

const ROUTES = Number(process.argv[2] ?? 5000)
const LOOKUPS = Number(process.argv[3] ?? 200_000)
const RUNS = 7

const RESOURCES = ['users', 'orders', 'invoices', 'products', 'carts', 'payments', 'reports', 'sessions']
const TEAMS = Array.from({ length: 40 }, (_, i) => `team${i}`)

interface Req {
  method: string
  host: string
  path: string
  headers: IncomingHttpHeaders
  /** the route this request was built to hit, checked before timing */
  expect?: string
}

/** Route i of a config where most routes sit on a service host, some on wildcards, some on none. */
function routeFor(i: number): RouteEntity {
  const team = TEAMS[i % TEAMS.length]!
  const resource = RESOURCES[i % RESOURCES.length]!
  const slot = i % 20
  const hosts =
    slot < 14 ? [`svc${i % 60}.example.com`] : slot < 16 ? [`*.tenant${i % 10}.example.com`] : undefined
  const version = `v${(i % 3) + 1}`
  // depth 2 to 5, unique per route so that lookups have to find the right one among thousands
  const depth = 2 + (i % 4)
  const segments = [team, `${resource}${i}`, version, 'items', 'detail'].slice(0, depth)
  const regex = i % 20 === 7
  const path = regex ? `~/${team}/${resource}${i}/(?<id>\\d+)/` : `/${segments.join('/')}`
  return makeRoute({
    id: `route-${i}`,
    hosts,
    paths: [path],
    methods: i % 5 === 0 ? ['GET', 'HEAD'] : i % 5 === 1 ? ['POST'] : undefined,
    headers: i % 25 === 3 ? { 'x-api-version': ['2024-01'] } : undefined,
    regex_priority: regex ? i % 3 : 0,
    created_at: 1_700_000_000 + i,
  })
}

/** A request that hits route i, `extra` segments below its path. */
function hitFor(route: RouteEntity, extra: number): Req {
  const raw = route.hosts?.[0]
  const host = raw === undefined ? 'gateway.local' : raw.startsWith('*') ? `acme${raw.slice(1)}` : raw
  const p = route.paths![0]!
  const base = p.startsWith('~') ? p.slice(1).replace('(?<id>\\d+)', '12345').replace(/\/$/, '') : p
  const path = flat(base + '/x'.repeat(extra))
  const method = route.methods?.[0] ?? 'GET'
  const headers: IncomingHttpHeaders = route.headers ? { 'x-api-version': '2024-01' } : {}
  return { method, host: flat(host), path, headers, expect: route.id }
}

/**
 * Request paths arrive as flat strings cut from `req.url`; the concatenations used to build them
 * here would otherwise be V8 rope strings, slower to index and not what production sees.
 */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1')
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

function time(label: string, reqs: Req[], find: (r: Req) => unknown): void {
  let sink = 0
  const runs: number[] = []
  for (let run = 0; run < RUNS + 1; run++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < LOOKUPS; i++) if (find(reqs[i % reqs.length]!) !== null) sink++
    const ns = Number(process.hrtime.bigint() - t0) / LOOKUPS
    if (run > 0) runs.push(ns) // the first run is warm-up
  }
  const hitRate = sink / ((RUNS + 1) * LOOKUPS)
  console.log(
    `${label.padEnd(44)} ${median(runs).toFixed(0).padStart(6)} ns/lookup   (hit rate ${hitRate.toFixed(2)})`,
  )
}

const routes = Array.from({ length: ROUTES }, (_, i) => routeFor(i))
const entries: RouterEntry<number>[] = routes.map((route, i) => ({ route, value: i }))

const builds: number[] = []
let router = buildRouter(entries)
for (let i = 0; i < 5; i++) {
  const t0 = process.hrtime.bigint()
  router = buildRouter(entries)
  builds.push(Number(process.hrtime.bigint() - t0) / 1e6)
}

const pick = (pred: (r: RouteEntity, i: number) => boolean) => routes.filter(pred).slice(0, 1024)
const isRegex = (r: RouteEntity) => r.paths![0]!.startsWith('~')
const byDepth = (d: number) => pick((r) => !isRegex(r) && r.paths![0]!.split('/').length - 1 === d)

console.log(
  `router: ${router.size} routes, build ${median(builds).toFixed(1)} ms (median of ${builds.length})`,
)
console.log(`lookups: ${LOOKUPS} per run, median of ${RUNS} runs\n`)

const scenarios: Array<[string, Req[]]> = [
  ['hit: prefix depth 2, exact path', byDepth(2).map((r) => hitFor(r, 0))],
  ['hit: prefix depth 3, 2 segments below', byDepth(3).map((r) => hitFor(r, 2))],
  ['hit: prefix depth 5, 4 segments below', byDepth(5).map((r) => hitFor(r, 4))],
  ['hit: regex path with named capture', pick(isRegex).map((r) => hitFor(r, 1))],
  ['hit: wildcard host', pick((r) => r.hosts?.[0]?.startsWith('*') === true).map((r) => hitFor(r, 1))],
  ['hit: host-less route', pick((r) => r.hosts === undefined).map((r) => hitFor(r, 1))],
  ['hit: route with a header condition', pick((r) => r.headers != null).map((r) => hitFor(r, 1))],
  [
    'miss: known host, unknown path',
    routes.slice(0, 1024).map((r) => ({ ...hitFor(r, 0), path: '/nowhere/to/be/found', expect: undefined })),
  ],
  [
    'miss: unknown host, unknown path',
    Array.from({ length: 1024 }, (_, i) => ({
      method: 'GET',
      host: flat(`other${i}.test`),
      path: flat(`/none/${i}`),
      headers: {},
    })),
  ],
]
for (const [label, reqs] of scenarios) {
  // A figure is only worth printing if the lookups land where the config says they should.
  const wrong = reqs.filter((r) => router.find(r.method, r.host, r.path, r)?.route.id !== r.expect)
  if (wrong.length > 0)
    throw new Error(`${label}: ${wrong.length} of ${reqs.length} lookups hit the wrong route`)
  time(label, reqs, (r) => router.find(r.method, r.host, r.path, r))
}

console.log('')
const clean = byDepth(5).map((r) => hitFor(r, 2))
const dirty = clean.map((r) => ({ ...r, path: flat(r.path.replace('/', '//').replace('/x', '/./%78/../x')) }))
time('normalizePath: clean path (unchanged)', clean, (r) => normalizePath(r.path))
time('normalizePath: dot segments, escapes, //', dirty, (r) => normalizePath(r.path))
