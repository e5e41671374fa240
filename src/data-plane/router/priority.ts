import type { RouteEntity } from '../../core/entities.js'
import { compileLinear, type LinearRegex } from '../../core/linear-regex.js'
import { literalPrefix } from './literal.js'
import { compileHeaders, type HeaderRule } from './match.js'
import { normalizePath } from './normalize.js'
import type { RouterEntry } from './types.js'

/**
 * Precedence, as Kong 3.x computes it for `router_flavor = traditional_compatible`
 * (kong/router/transform.lua `get_priority`, with routes split per path group by
 * `split_routes_and_services_by_path`: one group per prefix length, one for all regexes). Each
 * (route, path) pair is ranked by, most significant first:
 *
 *   1. match weight: how many of methods, hosts, paths, headers, snis the route defines (more wins)
 *   2. plain hosts only: the route has hosts and none is a wildcard (wins over wildcard / no hosts)
 *   3. number of header names (more wins, capped at 255 as Kong does)
 *   4. regex path (wins over a prefix path, regardless of length)
 *   5. regex_priority, for regex paths only (higher wins)
 *   6. prefix path length in characters (longer wins)
 *   7. created_at (older wins, when both routes have one), then order of definition — Kong's
 *      traditional router breaks ties this way (kong/router/traditional.lua `sort_routes`); the
 *      compatible flavour leaves them to the route uuid, which no user can reason about
 *   8. order of the path inside the route
 *
 * Kong packs 1–6 into one uint64 and shifts regex_priority unsigned, which garbles negative values;
 * here they compare as signed numbers, as the traditional router did. SNIs count towards the
 * weight as Kong does for a plain-HTTP request, where they are otherwise not checked.
 */

const STREAM_PROTOCOLS = new Set(['tcp', 'tls', 'udp', 'tls_passthrough'])

/** A route ready for matching; shared by all of its candidates. */
export interface CompiledRoute<T> {
  route: RouteEntity
  value: T
  methods: readonly string[] | null
  headers: readonly HeaderRule[] | null
}

/** One (route, path) pair, or a route without paths; `rank` 0 is the strongest. */
export interface Candidate<T> {
  rank: number
  route: CompiledRoute<T>
  /** normalised prefix path, or null */
  prefix: string | null
  /** `^(?:…)` regex of a `~` path, or null */
  regex: LinearRegex | null
  /** text every match of `regex` starts with ('' when unknown): a cheap test before `exec` */
  literal: string
}

/** The part of a rank that depends on the route, not on which of its paths matched. */
interface RouteKey {
  weight: number
  plainHosts: number
  headerCount: number
  createdAt: number
  order: number
}

interface Keyed<T> {
  candidate: Candidate<T>
  route: RouteKey
  isRegex: number
  regexPriority: number
  length: number
  pathOrder: number
}

function nonEmpty<V>(list: readonly V[] | null | undefined): list is readonly V[] {
  return list != null && list.length > 0
}

function compare<T>(a: Keyed<T>, b: Keyed<T>): number {
  const ra = a.route
  const rb = b.route
  return (
    rb.weight - ra.weight ||
    rb.plainHosts - ra.plainHosts ||
    rb.headerCount - ra.headerCount ||
    b.isRegex - a.isRegex ||
    b.regexPriority - a.regexPriority ||
    b.length - a.length ||
    (ra.createdAt === rb.createdAt ? 0 : ra.createdAt < rb.createdAt ? -1 : 1) ||
    ra.order - rb.order ||
    a.pathOrder - b.pathOrder
  )
}

/**
 * Compiles a `~` path for the linear-time engine (core/linear-regex.ts), which reads both
 * `(?P<name>` (the PCRE/Rust spelling Kong accepts) and `(?<name>`.
 * The whole pattern is grouped before anchoring so an alternation cannot escape the `^`, which
 * keeps "the matched part" a prefix of the path for strip_path.
 */
export function compilePathRegex(path: string, routeId: string): LinearRegex {
  const source = path.slice(1)
  try {
    return compileLinear(`^(?:${source})`)
  } catch (err) {
    throw new Error(`route ${routeId}: invalid regex path ${JSON.stringify(path)}: ${(err as Error).message}`)
  }
}

/** True when the route can match an HTTP request at all (Kong needs one of these four). */
export function isHttpMatchable(route: RouteEntity): boolean {
  if (route.protocols.length > 0 && route.protocols.every((p) => STREAM_PROTOCOLS.has(p))) return false
  return (
    nonEmpty(route.hosts) ||
    nonEmpty(route.paths) ||
    nonEmpty(route.methods) ||
    (route.headers != null && Object.keys(route.headers).length > 0)
  )
}

/**
 * Compiles routes into candidates and ranks them once, so a lookup compares integers only.
 * Routes that can never match an HTTP request are left out. The result is sorted by rank.
 *
 * @example
 *   const candidates = rankCandidates([{ route, value: 1 }])
 *   candidates[0].rank // 0
 */
export function rankCandidates<T>(entries: readonly RouterEntry<T>[]): Candidate<T>[] {
  const keyed: Keyed<T>[] = []
  for (let order = 0; order < entries.length; order++) {
    const { route, value } = entries[order]!
    if (!isHttpMatchable(route)) continue
    const compiled: CompiledRoute<T> = {
      route,
      value,
      methods: nonEmpty(route.methods) ? route.methods : null,
      headers: compileHeadersOf(route),
    }
    const hosts = nonEmpty(route.hosts) ? route.hosts : null
    const headerCount = compiled.headers ? Math.min(compiled.headers.length, 255) : 0
    const key: RouteKey = {
      weight:
        (compiled.methods ? 1 : 0) +
        (hosts ? 1 : 0) +
        (headerCount > 0 ? 1 : 0) +
        (nonEmpty(route.snis) ? 1 : 0) +
        (nonEmpty(route.paths) ? 1 : 0),
      plainHosts: hosts?.every((h) => !h.includes('*')) ? 1 : 0,
      headerCount,
      createdAt: route.created_at ?? Number.POSITIVE_INFINITY,
      order,
    }
    const paths = nonEmpty(route.paths) ? route.paths : null
    if (paths === null) {
      keyed.push(keyOf(candidateOf(compiled, null, null), key, 0, 0, 0, 0))
      continue
    }
    for (let pathOrder = 0; pathOrder < paths.length; pathOrder++) {
      const path = paths[pathOrder]!
      if (path.startsWith('~')) {
        const c = candidateOf(compiled, null, compilePathRegex(path, route.id))
        keyed.push(keyOf(c, key, 1, route.regex_priority, 0, pathOrder))
      } else {
        // Requests are normalised before lookup, so the route's own path must be too or a
        // `/a//b` or `%7e` in config could never match.
        const prefix = normalizePath(path) ?? path
        keyed.push(keyOf(candidateOf(compiled, prefix, null), key, 0, 0, prefix.length, pathOrder))
      }
    }
  }
  keyed.sort(compare)
  const out: Candidate<T>[] = new Array(keyed.length)
  for (let rank = 0; rank < keyed.length; rank++) {
    const c = keyed[rank]!.candidate
    c.rank = rank
    out[rank] = c
  }
  return out
}

// Every candidate is built by one function so all share one object shape: the lookup loops stay
// monomorphic.
function compileHeadersOf(route: RouteEntity): HeaderRule[] | null {
  try {
    return compileHeaders(route.headers)
  } catch (err) {
    throw new Error(`route ${route.id}: invalid header regex: ${(err as Error).message}`)
  }
}

function candidateOf<T>(
  route: CompiledRoute<T>,
  prefix: string | null,
  regex: LinearRegex | null,
): Candidate<T> {
  return { rank: 0, route, prefix, regex, literal: regex === null ? '' : literalPrefix(regex.source) }
}

function keyOf<T>(
  candidate: Candidate<T>,
  route: RouteKey,
  isRegex: number,
  regexPriority: number,
  length: number,
  pathOrder: number,
): Keyed<T> {
  return { candidate, route, isRegex, regexPriority, length, pathOrder }
}
