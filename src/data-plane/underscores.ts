import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'

/** Node's own header-joining rules (set-cookie as a list, duplicates of single-value headers dropped). */
interface HeaderLines {
  _addHeaderLine(field: string, value: string, dest: IncomingHttpHeaders): void
  _addHeaderLineDistinct(field: string, value: string, dest: NodeJS.Dict<string[]>): void
}

/**
 * Drops every request header whose name contains `_`, as nginx does by default
 * (`underscores_in_headers off`, DESIGN §2.1). CGI, WSGI, PHP and many frameworks map `-` and `_`
 * to the same variable, so `X_Consumer_Username: admin` would shadow the gateway's own
 * `X-Consumer-Username` in the upstream. Runs before anything reads the headers, so plugins,
 * the router, the cache key and the upstream request all see the same filtered set.
 *
 * The common request has no such header: one scan, no allocation. Only when one is found are
 * `rawHeaders`, `headers` and `headersDistinct` replaced (Node builds the latter two from
 * `rawHeaders` with a count taken at parse time, so they must be rebuilt, not left lazy).
 *
 * @example
 *   dropUnderscoreHeaders(req) // X_Api_Key: … is gone from req.rawHeaders and req.headers
 */
export function dropUnderscoreHeaders(req: IncomingMessage): void {
  const raw = req.rawHeaders
  let i = 0
  while (i < raw.length && raw[i]!.indexOf('_') === -1) i += 2
  if (i >= raw.length) return
  const kept: string[] = raw.slice(0, i)
  for (; i < raw.length; i += 2) {
    if (raw[i]!.indexOf('_') === -1) kept.push(raw[i]!, raw[i + 1]!)
  }
  if (req.httpVersionMajor === 2) {
    // node:http2's request keeps its lists behind getters: edit them in place
    for (const name of Object.keys(req.headers)) if (name.indexOf('_') !== -1) delete req.headers[name]
    raw.length = 0
    for (const v of kept) raw.push(v)
    return
  }
  const lines = req as unknown as HeaderLines
  const headers: IncomingHttpHeaders = {}
  const distinct: NodeJS.Dict<string[]> = {}
  for (let k = 0; k < kept.length; k += 2) {
    lines._addHeaderLine(kept[k]!, kept[k + 1]!, headers)
    lines._addHeaderLineDistinct(kept[k]!, kept[k + 1]!, distinct)
  }
  req.rawHeaders = kept
  req.headers = headers
  ;(req as { headersDistinct: NodeJS.Dict<string[]> }).headersDistinct = distinct
}
