/**
 * The Admin API's router: a segment trie over a few dozen fixed patterns (`/services/:service/
 * routes/:route`). Hand-written rather than a dependency because the table is small and static,
 * literal segments must win over parameters (`/plugins/enabled` before `/plugins/:plugin`), and
 * "path known, method not" must answer 405 as Kong does; none of it is on the proxy's hot path.
 *
 * @example
 *   const router = new Router<Handler>()
 *   router.add('GET', '/services/:service', getService)
 *   router.match('GET', ['services', 'users']) // → { handler: getService, params: { service: 'users' } }
 */
export class Router<H> {
  readonly #root: TrieNode<H> = new TrieNode()

  add(method: string, pattern: string, handler: H): void {
    let node = this.#root
    for (const segment of split(pattern)) {
      if (segment.startsWith(':')) {
        const name = segment.slice(1)
        node.param ??= { name, node: new TrieNode() }
        if (node.param.name !== name) throw new Error(`conflicting parameter names at ${pattern}`)
        node = node.param.node
      } else {
        let next = node.literal.get(segment)
        if (next === undefined) {
          next = new TrieNode()
          node.literal.set(segment, next)
        }
        node = next
      }
    }
    if (node.handlers.has(method)) throw new Error(`duplicate route ${method} ${pattern}`)
    node.handlers.set(method, handler)
  }

  /**
   * The handler for a method and an already URL-decoded list of segments: `undefined` when no
   * pattern matches the path, `'method'` when one does but not for this method.
   */
  match(
    method: string,
    segments: readonly string[],
  ): { handler: H; params: Record<string, string> } | 'method' | undefined {
    const params: Record<string, string> = {}
    const node = walk(this.#root, segments, 0, params)
    if (node === undefined) return undefined
    const handler = node.handlers.get(method) ?? (method === 'HEAD' ? node.handlers.get('GET') : undefined)
    return handler === undefined ? 'method' : { handler, params }
  }

  /**
   * The methods a path answers, as Kong's `OPTIONS` lists them in `Allow`: sorted, with HEAD
   * where there is GET and OPTIONS itself; `undefined` for an unknown path.
   */
  methods(segments: readonly string[]): string[] | undefined {
    const node = walk(this.#root, segments, 0, {})
    if (node === undefined) return undefined
    const methods = new Set(node.handlers.keys())
    if (methods.has('GET')) methods.add('HEAD')
    methods.add('OPTIONS')
    return [...methods].sort()
  }

  /** Every registered pattern with its methods (`GET /endpoints`). */
  patterns(): Array<{ path: string; methods: string[] }> {
    const out: Array<{ path: string; methods: string[] }> = []
    const visit = (node: TrieNode<H>, prefix: string) => {
      if (node.handlers.size > 0) out.push({ path: prefix || '/', methods: [...node.handlers.keys()].sort() })
      for (const [segment, child] of node.literal) visit(child, `${prefix}/${segment}`)
      if (node.param) visit(node.param.node, `${prefix}/{${node.param.name}}`)
    }
    visit(this.#root, '')
    return out.sort((a, b) => a.path.localeCompare(b.path))
  }
}

class TrieNode<H> {
  readonly literal = new Map<string, TrieNode<H>>()
  param: { name: string; node: TrieNode<H> } | undefined
  readonly handlers = new Map<string, H>()
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '')
}

function walk<H>(
  node: TrieNode<H>,
  segments: readonly string[],
  i: number,
  params: Record<string, string>,
): TrieNode<H> | undefined {
  if (i === segments.length) return node.handlers.size > 0 ? node : undefined
  const segment = segments[i] as string
  const literal = node.literal.get(segment)
  if (literal !== undefined) {
    const found = walk(literal, segments, i + 1, params)
    if (found !== undefined) return found
  }
  if (node.param !== undefined) {
    const found = walk(node.param.node, segments, i + 1, params)
    if (found !== undefined) {
      params[node.param.name] = segment
      return found
    }
  }
  return undefined
}
