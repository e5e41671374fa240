/**
 * The demo token issuer (the FastAPI reference's auth service). It signs HS256 JWTs with each
 * consumer's jwt secret and puts the credential key in `iss`, which is exactly what Kong's jwt
 * plugin (and Portico's) looks up, so its tokens pass the gateway's `/api/resource` route.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { decodeJwt, jwtVerify, SignJWT } from 'jose'
import { consumerByIss, DEMO_CONSUMERS, type DemoConsumer } from '../consumers.js'
import { readObject } from './body.js'
import { HttpError, sendJson, serve } from './http.js'
import type { DemoServer, ListenOptions } from './types.js'

/**
 * Options of {@link startAuth}.
 *
 * @example
 *   const opts: AuthOptions = { port: 9106, tokenTtlSeconds: 600 }
 */
export interface AuthOptions extends ListenOptions {
  /** instance name (default `auth`) */
  name?: string
  /** lifetime of issued tokens, reported as `expires_in` (default 3600) */
  tokenTtlSeconds?: number
}

// Tokens and introspection results are per-caller secrets: no cache, gateway or browser, may keep them.
const NO_STORE = { 'cache-control': 'no-store' }
const encoder = new TextEncoder()

/** Constant-time string equality; hashing first makes the lengths equal and hides them. */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** `Authorization: Basic base64(client_id:client_secret)`, the OAuth 2 way to send client credentials. */
function basicCredentials(req: IncomingMessage): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')
  if (!match) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) }
}

/** Finds the consumer for a username/password or client_id/client_secret pair; 400 if neither is given. */
function authenticate(body: Record<string, unknown>, req: IncomingMessage): DemoConsumer | undefined {
  const basic = basicCredentials(req)
  const username = str(body.username)
  const clientId = str(body.client_id) ?? basic?.id
  let found: DemoConsumer | undefined
  let given: string | undefined
  if (username !== undefined) {
    found = DEMO_CONSUMERS.find((c) => c.username === username)
    given = str(body.password)
  } else if (clientId !== undefined) {
    found = DEMO_CONSUMERS.find((c) => c.clientId === clientId)
    given = str(body.client_secret) ?? basic?.secret
  } else {
    const hint = 'send "username" and "password", or "client_id" and "client_secret"'
    throw new HttpError(400, 'invalid_request', hint)
  }
  const expected = username !== undefined ? found?.password : found?.clientSecret
  // Compare even when the name is unknown, so timing does not reveal which names exist.
  const ok = safeEqual(expected ?? '', given ?? '') && found !== undefined && given !== undefined
  return ok ? found : undefined
}

/** Verifies signature (HS256 only, never `alg` from the token), issuer and expiry. */
async function introspect(token: string): Promise<Record<string, unknown>> {
  try {
    const consumer = consumerByIss(decodeJwt(token).iss)
    if (!consumer) return { active: false }
    const { payload } = await jwtVerify(token, encoder.encode(consumer.jwt.secret), {
      algorithms: [consumer.jwt.algorithm],
      issuer: consumer.jwt.key,
    })
    return { active: true, ...payload, username: payload.sub, token_type: 'Bearer' }
  } catch {
    // RFC 7662: an invalid, expired or unknown token is just "not active", with no details.
    return { active: false }
  }
}

/**
 * Starts the auth service: `POST /token` issues a JWT for a demo consumer, `POST /introspect`
 * checks one, `GET /resource` is the protected thing the gateway guards.
 *
 * @example
 *   const auth = await startAuth({ port: 0 })
 *   const r = await fetch(`${auth.url}/token`, {
 *     method: 'POST',
 *     headers: { 'content-type': 'application/json' },
 *     body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
 *   })
 *   // → 200 {"access_token":"eyJ…","token_type":"Bearer","expires_in":3600}
 */
export function startAuth(opts: AuthOptions = {}): Promise<DemoServer> {
  const ttl = opts.tokenTtlSeconds ?? 3600
  return serve(opts.name ?? 'auth', opts, async (req, res, url) => {
    const route = `${req.method} ${url.pathname}`
    if (route === 'POST /token') {
      const consumer = authenticate(await readObject(req), req)
      if (!consumer) {
        const challenge = { 'www-authenticate': 'Basic realm="portico-demo"', ...NO_STORE }
        throw new HttpError(401, 'invalid_credentials', 'unknown user or wrong password', challenge)
      }
      const now = Math.floor(Date.now() / 1000)
      const accessToken = await new SignJWT({})
        .setProtectedHeader({ alg: consumer.jwt.algorithm, typ: 'JWT' })
        .setIssuer(consumer.jwt.key)
        .setSubject(consumer.username)
        .setIssuedAt(now)
        .setExpirationTime(now + ttl)
        .setJti(randomUUID())
        .sign(encoder.encode(consumer.jwt.secret))
      return sendJson(
        res,
        200,
        { access_token: accessToken, token_type: 'Bearer', expires_in: ttl },
        NO_STORE,
      )
    }
    if (route === 'POST /introspect') {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
      const token = str((await readObject(req)).token) ?? bearer
      if (token === undefined) throw new HttpError(400, 'invalid_request', 'send the JWT as "token"')
      return sendJson(res, 200, await introspect(token), NO_STORE)
    }
    if (route === 'GET /resource' || route === 'HEAD /resource') {
      // Kong (and Portico) set X-Consumer-Username once the jwt or key-auth plugin accepted the caller.
      const user = req.headers['x-consumer-username']
      return sendJson(res, 200, { resource: 'protected', user: typeof user === 'string' ? user : null })
    }
    if (['/token', '/introspect', '/resource'].includes(url.pathname)) {
      const allow = url.pathname === '/resource' ? 'GET, HEAD' : 'POST'
      throw new HttpError(405, 'method_not_allowed', `use ${allow} ${url.pathname}`, { allow })
    }
    throw new HttpError(404, 'not_found', `no route for ${url.pathname}`)
  })
}
