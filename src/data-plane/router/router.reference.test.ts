import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { test } from 'node:test'
import type { RouteEntity } from '../../core/entities.js'
import { parseRouteHost } from './hosts.js'
import { headersMatch, methodMatches } from './match.js'
import { type Candidate, rankCandidates } from './priority.js'
import { buildRouter } from './router.js'
import { makeRoute } from './testing.js'
import type { RouterEntry } from './types.js'

/**
 * The indexed router (host buckets, radix walk, pruning by rank) must pick exactly what a plain
 * scan over every ranked candidate picks. Random configurations over a small vocabulary make
 * overlaps, ties and near-misses frequent.
 */

function hostMatches(route: RouteEntity, host: string): boolean {
  if (!route.hosts || route.hosts.length === 0) return true
  return route.hosts.some((raw) => {
    const h = parseRouteHost(raw)
    if (h.kind === 'exact') return h.host === host
    return h.kind === 'suffix' ? host.endsWith(h.suffix) : host.startsWith(h.prefix)
  })
}

function linearFind<T>(
  ranked: Candidate<T>[],
  method: string,
  host: string,
  path: string,
  headers: IncomingHttpHeaders,
) {
  for (const c of ranked) {
    const r = c.route
    if (!hostMatches(r.route, host)) continue
    if (r.methods && !methodMatches(r.methods, method)) continue
    if (r.headers && !headersMatch(r.headers, headers)) continue
    if (c.prefix !== null) {
      const p = c.prefix
      const ok = path === p || (path.startsWith(p) && (p.endsWith('/') || path[p.length] === '/'))
      if (ok) return { value: r.value, cut: p.length }
    } else if (c.regex !== null) {
      const m = c.regex.exec(path)
      if (m) return { value: r.value, cut: m[0].length }
    } else {
      return { value: r.value, cut: 0 }
    }
  }
  return null
}

/** mulberry32: a seeded generator, so a failure reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const HOSTS = ['a.com', 'b.com', '*.a.com', 'a.*', 'x.a.com']
const PATHS = ['/', '/a', '/a/', '/a/b', '/ab', '/a/b/c', '~/a/\\d+', '~/(?<x>[ab])', '~/a/b']
// regexes whose literal prefix is partial, optional or absent, to check the pre-filter
const TRICKY = ['~/ab?', '~/a|/c', '~^/a\\/b', '~/a{0,1}/b', '~/a+b', '~/(?:a)/1', '~/a\\d']
const REQ_HOSTS = ['a.com', 'b.com', 'x.a.com', 'y.a.com', 'a.org', 'c.com']
const REQ_PATHS = [
  '/',
  '/a',
  '/a/',
  '/a/1',
  '/a/b',
  '/a/b/c',
  '/ab',
  '/abc',
  '/b',
  '/a/b/c/d',
  '/c',
  '/aab',
  '/a7',
]

test('the indexed lookup agrees with a linear scan of the ranked candidates', () => {
  const rnd = prng(20240611)
  const pick = <V>(list: readonly V[]): V => list[Math.floor(rnd() * list.length)]!
  const some = <V>(list: readonly V[], p: number): V[] | undefined =>
    rnd() < p ? [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => pick(list)))] : undefined

  let compared = 0
  let matched = 0
  for (let config = 0; config < 200; config++) {
    const entries: RouterEntry<string>[] = []
    const count = 1 + Math.floor(rnd() * 12)
    for (let i = 0; i < count; i++) {
      const route = makeRoute({
        id: `r${i}`,
        hosts: some(HOSTS, 0.5),
        paths: some(rnd() < 0.3 ? TRICKY : PATHS, 0.8),
        methods: some(['GET', 'POST'], 0.3),
        headers: rnd() < 0.2 ? { 'x-h': [pick(['1', '~*^2'])] } : undefined,
        regex_priority: Math.floor(rnd() * 3) - 1,
        created_at: rnd() < 0.5 ? Math.floor(rnd() * 3) : undefined,
      })
      entries.push({ route, value: route.id })
    }
    const router = buildRouter(entries)
    const ranked = rankCandidates(entries)
    for (const host of REQ_HOSTS) {
      for (const path of REQ_PATHS) {
        const method = pick(['GET', 'POST'])
        const headers = rnd() < 0.5 ? { 'x-h': pick(['1', '2', '3']) } : {}
        const want = linearFind(ranked, method, host, path, headers)
        const got = router.find(method, host, path, { headers })
        const ctx = JSON.stringify({
          config,
          host,
          path,
          method,
          headers,
          routes: entries.map((e) => e.route),
        })
        assert.equal(got?.value ?? null, want?.value ?? null, ctx)
        if (got && want && got.route.strip_path) {
          const rest = path.slice(want.cut)
          assert.equal(got.strippedPath, rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`, ctx)
        }
        compared++
        if (want) matched++
      }
    }
  }
  // the vocabulary must actually exercise both outcomes, or this test proves nothing
  assert.ok(matched > compared / 4 && matched < compared, `${matched}/${compared} matched`)
})
