import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { AdminResponse } from '../core/admin.js'
import type { Logger } from '../core/logger.js'
import { originRefusal } from './admin-origin.js'
import { tokenChecker } from './auth.js'
import { type ParsedBody, parseBody, readBody } from './body.js'
import { ApiError, badRequest, methodNotAllowed, notFound } from './errors.js'
import type { Router } from './router.js'
import type { StaticFiles } from './ui.js'

/** A request as the Admin API's handlers see it. */
export interface AdminCall {
  method: string
  path: string
  params: Record<string, string>
  query: URLSearchParams
  body: ParsedBody
  headers: IncomingHttpHeaders
}

export type AdminHandler = (call: AdminCall) => AdminResponse | ApiError | Promise<AdminResponse | ApiError>

export interface HttpOptions {
  router: Router<AdminHandler>
  token: string | undefined
  log: Logger
  /** body limit for `POST /config` (default 10 MiB) */
  configBodyLimit?: number
  /** body limit elsewhere (default 1 MiB) */
  bodyLimit?: number
  /** the admin UI's assets under `/ui/` (served before the token check: they hold no data) */
  ui?: StaticFiles | null
}

const WRITES = new Set(['POST', 'PUT', 'PATCH'])
const EMPTY: ParsedBody = { kind: 'none', value: {}, raw: Buffer.alloc(0), contentType: '' }

function send(res: ServerResponse, method: string, reply: AdminResponse | ApiError): void {
  const status = reply.status
  const headers: Record<string, string | number> = { 'cache-control': 'no-store', ...reply.headers }
  if (reply instanceof ApiError && reply.status === 413) res.shouldKeepAlive = false
  if (status === 204 || status === 304 || reply.body === undefined) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const raw = typeof reply.body === 'string' && headers['content-type'] !== undefined
  const data = raw ? (reply.body as string) : JSON.stringify(reply.body)
  headers['content-type'] ??= 'application/json; charset=utf-8'
  headers['content-length'] = Buffer.byteLength(data)
  res.writeHead(status, headers)
  res.end(method === 'HEAD' ? undefined : data)
}

// Kong's before_filter: a write's body is JSON, form or multipart (YAML too on /config)
const BODY_TYPES = ['application/json', 'multipart/form-data', 'application/x-www-form-urlencoded']

/** 415 (Kong's answer) for a write whose body has a content type the Admin API does not read. */
function unsupportedType(headers: IncomingHttpHeaders, isConfig: boolean): ApiError | undefined {
  const type = headers['content-type']
  if (type === undefined) {
    const length = headers['content-length']
    const chunked = headers['transfer-encoding'] !== undefined
    return (length === undefined || length === '0') && !chunked
      ? undefined
      : new ApiError(415, { message: 'Unsupported Content-Type: a body needs one' })
  }
  const t = type.trim().toLowerCase()
  if (BODY_TYPES.some((b) => t.startsWith(b)) || /^[a-z]+\/[^;]*\+json/.test(t)) return undefined
  if (isConfig && /^(application|text)\/(x-)?yaml/.test(t)) return undefined
  return new ApiError(415, { message: `Unsupported Content-Type: ${type}` })
}

/**
 * Kong's `OPTIONS`: 204 with `Allow` (and `Access-Control-Allow-Methods`/`-Headers`) listing the
 * path's methods. Kong's admin also reflects any `Origin` with credentials on every response;
 * Portico does so only when an admin token protects the API, so a web page the operator visits
 * cannot read an open loopback Admin API (docs/kong-compatibility.md, "Admin API CORS").
 */
function preflight(methods: string[] | undefined, headers: IncomingHttpHeaders, token: string | undefined) {
  if (methods === undefined) return notFound()
  const allow = methods.join(', ')
  const out: Record<string, string> = {
    allow,
    'access-control-allow-methods': allow,
    'access-control-allow-headers': String(headers['access-control-request-headers'] ?? 'Content-Type'),
  }
  if (token !== undefined && token !== '') Object.assign(out, corsHeaders(headers))
  return { status: 204, headers: out }
}

/** Kong's `cors_filter` headers, for an Admin API that requires a token. */
function corsHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return {
    'access-control-allow-origin': String(headers.origin ?? '*'),
    'access-control-allow-credentials': 'true',
  }
}

function decodeSegments(path: string): string[] | undefined {
  try {
    return path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s))
  } catch {
    return undefined
  }
}

/**
 * The Admin API's request listener: token check (when one is configured), the browser guard of
 * a token-less admin (admin-origin.ts), routing (404, 405 as
 * Kong answers them), body limits (413) and parsing (400 on malformed input), then the handler;
 * an unexpected failure is logged and answered 500 without details.
 *
 * @example
 *   const server = createPlainServer(createAdminListener({ router, token, log }), limits)
 */
export function createAdminListener(options: HttpOptions): RequestListener {
  const authorized = tokenChecker(options.token)
  const hasToken = options.token !== undefined && options.token !== ''
  const configLimit = options.configBodyLimit ?? 10 * 1024 * 1024
  const limit = options.bodyLimit ?? 1024 * 1024

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET'
    if (method === 'OPTIONS') {
      // a browser's preflight carries no credentials: it is answered before the token check
      req.resume()
      const segments = decodeSegments((req.url ?? '/').split('?')[0] ?? '/')
      return send(
        res,
        method,
        preflight(segments && options.router.methods(segments), req.headers, options.token),
      )
    }
    const target = req.url ?? '/'
    const q = target.indexOf('?')
    const path = q < 0 ? target : target.slice(0, q)
    if (options.ui != null && (path === '/ui' || path.startsWith('/ui/'))) {
      req.resume()
      return options.ui(method, path, res)
    }
    if (!authorized(req.headers)) {
      req.resume()
      return send(res, method, {
        status: 401,
        body: { message: 'Unauthorized: a valid admin token is required' },
        headers: { 'www-authenticate': 'Bearer realm="portico-admin"' },
      })
    }
    const refusal = originRefusal(method, req.headers, hasToken)
    if (refusal !== undefined) {
      req.resume()
      return send(res, method, refusal)
    }
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1))
    const segments = decodeSegments(path)
    if (segments === undefined) {
      req.resume()
      return send(res, method, badRequest('invalid percent-encoding in the path'))
    }
    const matched = options.router.match(method, segments)
    if (matched === undefined || matched === 'method') {
      req.resume()
      return send(res, method, matched === undefined ? notFound() : methodNotAllowed())
    }
    const isConfig = segments.length === 1 && segments[0] === 'config'
    const unsupported = WRITES.has(method) ? unsupportedType(req.headers, isConfig) : undefined
    if (unsupported !== undefined) {
      req.resume()
      return send(res, method, unsupported)
    }
    const raw = await readBody(req, isConfig ? configLimit : limit)
    if (raw instanceof ApiError) return send(res, method, raw)
    let body = EMPTY
    if (WRITES.has(method)) {
      const parsed = parseBody(raw, String(req.headers['content-type'] ?? ''))
      if (parsed instanceof ApiError) return send(res, method, parsed)
      body = parsed
    }
    const call: AdminCall = { method, path, params: matched.params, query, body, headers: req.headers }
    send(res, method, await matched.handler(call))
  }

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.log.error({ err, method: req.method, url: req.url }, 'admin request failed')
      if (!res.headersSent)
        send(res, req.method ?? 'GET', { status: 500, body: { message: 'An unexpected error occurred' } })
      else res.destroy()
    })
  }
}
