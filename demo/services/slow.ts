/**
 * An expensive, cacheable endpoint (the "slow backend" of the Kong + Redis cache reference).
 * `GET /slow` costs ~120 ms and says it may be cached for 30 s; `GET /stats` counts how many
 * requests actually reached it, so "cache ON vs OFF" shows up as a hit count, not a guess.
 */
import { delay, HttpError, sendJson, serve } from './http.js'
import type { DemoServer, ListenOptions } from './types.js'

/**
 * Options of {@link startSlow}.
 *
 * @example
 *   const opts: SlowOptions = { slowMs: 20, maxAgeSeconds: 5 }
 */
export interface SlowOptions extends ListenOptions {
  /** instance name (default `slow`) */
  name?: string
  /** time to produce one answer (default 120 ms) */
  slowMs?: number
  /** `max-age` advertised in `Cache-Control` (default 30 s) */
  maxAgeSeconds?: number
}

// The counter must always be fresh: a cached /stats would hide exactly what it is there to show.
const NO_STORE = { 'cache-control': 'no-store' }

/**
 * Starts the slow service.
 * - `GET /slow[?…]` → after `slowMs`, `{"data": {…, "hit": n}, "generated_at", "slow_ms"}` with
 *   `Cache-Control: public, max-age=30`. `data` echoes the query, so a cache keyed on query
 *   parameters visibly keeps answers apart; `hit` is the request's sequence number, so a cached
 *   answer visibly repeats an old one.
 * - `GET /stats` → `{"hits": n}`, the number of `/slow` requests that reached this service.
 * - `DELETE /stats` → 204, resets the counter (between a baseline and an optimised run).
 *
 * @example
 *   const slow = await startSlow({ port: 0 })
 *   await fetch(`${slow.url}/slow?id=7`)   // ~120 ms, {"data":{"id":"7",…},…}
 *   await (await fetch(`${slow.url}/stats`)).json()   // → { hits: 1 }
 */
export function startSlow(opts: SlowOptions = {}): Promise<DemoServer> {
  const slowMs = Math.max(0, opts.slowMs ?? 120)
  const cacheControl = `public, max-age=${opts.maxAgeSeconds ?? 30}`
  let hits = 0

  return serve(opts.name ?? 'slow', opts, async (req, res, url) => {
    const method = req.method === 'HEAD' ? 'GET' : req.method
    if (url.pathname === '/slow') {
      if (method !== 'GET')
        throw new HttpError(405, 'method_not_allowed', 'use GET /slow', { allow: 'GET, HEAD' })
      // Counted on arrival, not on answer: the point is how many requests the cache let through.
      const hit = ++hits
      if (!(await delay(slowMs, res))) return
      return sendJson(
        res,
        200,
        {
          data: {
            ...Object.fromEntries(url.searchParams),
            report: 'quarterly-summary',
            rows: [
              { region: 'north', total: 1280 },
              { region: 'south', total: 940 },
              { region: 'east', total: 1105 },
            ],
            hit,
          },
          generated_at: new Date().toISOString(),
          slow_ms: slowMs,
        },
        { 'cache-control': cacheControl },
      )
    }
    if (url.pathname === '/stats') {
      if (method === 'GET') return sendJson(res, 200, { hits }, NO_STORE)
      if (method === 'DELETE') {
        hits = 0
        res.writeHead(204, NO_STORE).end()
        return
      }
      throw new HttpError(405, 'method_not_allowed', 'use GET or DELETE /stats', {
        allow: 'GET, HEAD, DELETE',
      })
    }
    throw new HttpError(404, 'not_found', `no route for ${url.pathname}`)
  })
}
