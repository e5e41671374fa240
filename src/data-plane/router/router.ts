import { parseRouteHost } from './hosts.js'
import { headersMatch, methodMatches } from './match.js'
import { type Candidate, type CompiledRoute, rankCandidates } from './priority.js'
import { continuesWith, createTrie, type TrieNode, trieFinalize, trieInsert } from './trie.js'
import type { HeaderSource, RouteMatch, Router, RouterEntry } from './types.js'

const SLASH = 0x2f

/**
 * The candidates reachable under one host condition. Host is decided by which bucket a lookup
 * visits, so candidates never re-check it; each part keeps its strongest rank so a lookup skips
 * it whole once it already holds something better.
 */
interface Bucket<T> {
  /** prefix paths, and regex paths filed under their literal prefix */
  trie: TrieNode<Candidate<T>>
  /** routes without paths */
  bare: Candidate<T>[]
  min: number
}

interface WildcardBucket<T> {
  suffix: boolean
  affix: string
  bucket: Bucket<T>
}

function newBucket<T>(): Bucket<T> {
  return { trie: createTrie(), bare: [], min: Number.POSITIVE_INFINITY }
}

function addToBucket<T>(bucket: Bucket<T>, c: Candidate<T>): void {
  if (c.prefix !== null) trieInsert(bucket.trie, c.prefix, c, 'prefixes')
  else if (c.regex !== null) trieInsert(bucket.trie, c.literal, c, 'patterns')
  else bucket.bare.push(c)
}

function finalizeBucket<T>(bucket: Bucket<T>): void {
  bucket.bare.sort((a, b) => a.rank - b.rank)
  bucket.min = Math.min(trieFinalize(bucket.trie), bucket.bare[0]?.rank ?? Number.POSITIVE_INFINITY)
}

function conditionsMatch<T>(r: CompiledRoute<T>, method: string, req: HeaderSource): boolean {
  return (
    (r.methods === null || methodMatches(r.methods, method)) &&
    (r.headers === null || headersMatch(r.headers, req.headers))
  )
}

/** The rest of the path after `cut` characters, always starting with `/` (Kong's upstream uri). */
function stripPrefix(path: string, cut: number): string {
  if (cut >= path.length) return '/'
  const rest = path.slice(cut)
  return rest.charCodeAt(0) === SLASH ? rest : `/${rest}`
}

function namedCaptures(
  groups: Record<string, string | undefined> | undefined,
): Record<string, string> | null {
  if (groups === undefined) return null
  const out: Record<string, string> = {}
  for (const name in groups) {
    const v = groups[name]
    if (v !== undefined) out[name] = v
  }
  return out
}

function positionalCaptures(exec: RegExpExecArray): Array<string | null> {
  const out: Array<string | null> = []
  for (let i = 1; i < exec.length; i++) out.push(exec[i] ?? null)
  return out
}

class CompiledRouter<T> implements Router<T> {
  // The best candidate so far during one `find`. Kept on the instance rather than in a
  // per-call object so a lookup allocates nothing but its result; `find` is synchronous, so
  // two lookups can never interleave.
  private bestRank = Number.POSITIVE_INFINITY
  private best: Candidate<T> | null = null
  private bestExec: RegExpExecArray | null = null // from LinearRegex.exec
  // Trie nodes with regexes met during a walk; reused, so it grows to the deepest path once.
  private readonly visited: TrieNode<Candidate<T>>[] = []

  constructor(
    readonly size: number,
    private readonly exact: Map<string, Bucket<T>>,
    private readonly wildcards: WildcardBucket<T>[],
    private readonly hostless: Bucket<T>,
  ) {}

  find(method: string, host: string, path: string, req: HeaderSource): RouteMatch<T> | null {
    this.reset()
    const exact = this.exact.get(host)
    if (exact !== undefined) this.search(exact, method, path, req)
    const wildcards = this.wildcards
    for (let i = 0; i < wildcards.length; i++) {
      const w = wildcards[i]!
      // sorted by strength: once one cannot win, none of the rest can
      if (w.bucket.min >= this.bestRank) break
      if (w.suffix ? host.endsWith(w.affix) : host.startsWith(w.affix))
        this.search(w.bucket, method, path, req)
    }
    this.search(this.hostless, method, path, req)

    const c = this.best
    if (c === null) return null
    const exec = this.bestExec
    // drop the references so a router kept around does not pin the last request's strings
    this.reset()
    const route = c.route.route
    let strippedPath = path
    if (route.strip_path) {
      // a route without paths matched nothing of the path, so there is nothing to strip
      const cut = exec !== null ? exec[0].length : c.prefix !== null ? c.prefix.length : 0
      strippedPath = stripPrefix(path, cut)
    }
    return {
      route,
      value: c.route.value,
      strippedPath,
      captures: exec !== null ? namedCaptures(exec.groups) : null,
      positional: exec !== null ? positionalCaptures(exec) : null,
    }
  }

  private reset(): void {
    this.bestRank = Number.POSITIVE_INFINITY
    this.best = null
    this.bestExec = null
  }

  private search(bucket: Bucket<T>, method: string, path: string, req: HeaderSource): void {
    if (bucket.min >= this.bestRank) return
    const n = path.length
    const visited = this.visited
    let depth = 0
    let node = bucket.trie
    let pos = 0
    // Phase 1, one walk down the path: prefix paths are settled on the way; nodes holding
    // regexes are remembered. A prefix matches only at a segment boundary: the path ends there,
    // continues with `/`, or the route path itself ended with `/`.
    while (node.min < this.bestRank) {
      const prefixes = node.prefixes
      if (
        prefixes !== null &&
        (pos === n || path.charCodeAt(pos) === SLASH || path.charCodeAt(pos - 1) === SLASH)
      ) {
        for (let i = 0; i < prefixes.length; i++) {
          const c = prefixes[i]!
          if (c.rank >= this.bestRank) break
          if (conditionsMatch(c.route, method, req)) {
            this.bestRank = c.rank
            this.best = c
            this.bestExec = null
            break
          }
        }
      }
      if (node.patterns !== null) visited[depth++] = node
      if (pos === n || node.children === null) break
      const child = node.children.get(path.charCodeAt(pos))
      if (child === undefined || !continuesWith(path, pos, child.label)) break
      pos += child.label.length
      node = child
    }
    // Phase 2: regexes whose literal prefix the path starts with, run only while one could
    // still outrank the best prefix; longest literal first, as the most specific.
    while (depth > 0) {
      const patterns = visited[--depth]!.patterns!
      for (let i = 0; i < patterns.length; i++) {
        const c = patterns[i]!
        if (c.rank >= this.bestRank) break
        if (!conditionsMatch(c.route, method, req)) continue
        const m = c.regex!.exec(path)
        if (m !== null) {
          this.bestRank = c.rank
          this.best = c
          this.bestExec = m
          break
        }
      }
    }
    const bare = bucket.bare
    for (let i = 0; i < bare.length; i++) {
      const c = bare[i]!
      if (c.rank >= this.bestRank) break
      if (conditionsMatch(c.route, method, req)) {
        this.bestRank = c.rank
        this.best = c
        this.bestExec = null
        break
      }
    }
  }
}

/**
 * Compiles routes into an immutable router with Kong's `traditional_compatible` precedence
 * (see priority.ts for the exact order). Throws when a `~` path is not a valid regex.
 * `find` takes the normalised path (see `normalizePath`), the method as sent, and the host
 * lower-cased without its port.
 *
 * @example
 *   const router = buildRouter([{ route, value: 'users' }])
 *   const m = router.find('GET', 'api.example.com', '/users/1', req)
 *   if (m) console.log(m.value, m.strippedPath)
 */
export function buildRouter<T>(entries: RouterEntry<T>[]): Router<T> {
  const candidates = rankCandidates(entries)
  const exact = new Map<string, Bucket<T>>()
  const wildcards = new Map<string, WildcardBucket<T>>()
  const hostless = newBucket<T>()
  const bucketsOf = new Map<CompiledRoute<T>, Set<Bucket<T>>>()

  for (const c of candidates) {
    let buckets = bucketsOf.get(c.route)
    if (buckets === undefined) {
      buckets = new Set()
      for (const raw of c.route.route.hosts ?? []) {
        const h = parseRouteHost(raw)
        if (h.kind === 'exact') {
          let b = exact.get(h.host)
          if (b === undefined) exact.set(h.host, (b = newBucket()))
          buckets.add(b)
        } else {
          const key = h.kind === 'suffix' ? `*${h.suffix}` : `${h.prefix}*`
          let w = wildcards.get(key)
          if (w === undefined) {
            const suffix = h.kind === 'suffix'
            w = { suffix, affix: suffix ? h.suffix : h.prefix, bucket: newBucket() }
            wildcards.set(key, w)
          }
          buckets.add(w.bucket)
        }
      }
      if (buckets.size === 0) buckets.add(hostless)
      bucketsOf.set(c.route, buckets)
    }
    for (const b of buckets) addToBucket(b, c)
  }

  for (const b of exact.values()) finalizeBucket(b)
  for (const w of wildcards.values()) finalizeBucket(w.bucket)
  finalizeBucket(hostless)
  // Strongest wildcard first, so a good early hit lets the later ones be skipped unexamined.
  const wildcardList = [...wildcards.values()].sort((a, b) => a.bucket.min - b.bucket.min)
  return new CompiledRouter(bucketsOf.size, exact, wildcardList, hostless)
}
