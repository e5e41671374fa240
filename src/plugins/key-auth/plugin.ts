import type { RequestContext } from '../../core/context.js'
import { reply } from '../../core/errors.js'
import type { PluginDefinition, PluginEnv } from '../../core/plugin.js'
import { type AuthResult, authFlow } from '../kit/auth/flow.js'
import { consumersOf, findConsumer, Identity } from '../kit/auth/identity.js'
import { queryParam, withoutParams } from '../kit/auth/query.js'
import { SecretIndex } from '../kit/auth/safe-equal.js'
import { bodyField, bodyKind, type ParsedBody, parsedBody, stripBodyField } from './body.js'
import { type KeyAuthConfig, schema } from './schema.js'

interface KeyCredential {
  readonly identity: Identity
  /** ms since the epoch; Infinity when the key has no ttl */
  readonly expiresAt: number
}

/**
 * Every key credential of the document, indexed by digest (constant-time lookup). A key with a
 * `ttl` expires `ttl` seconds after its `created_at`; without `created_at` (a hand-written
 * declarative file), after the moment this node first saw it, remembered across reloads.
 */
function compileKeys(env: PluginEnv): SecretIndex<KeyCredential> {
  const consumers = consumersOf(env.document)
  const firstSeen = env.services.shared('key-auth:first-seen', () => new Map<string, number>())
  const index = new SecretIndex<KeyCredential>()
  const now = Date.now()
  for (const cred of env.document.keyauth_credentials) {
    const consumer = consumers.byId.get(cred.consumer.id)
    if (consumer === undefined) continue
    let expiresAt = Number.POSITIVE_INFINITY
    if (cred.ttl != null && cred.ttl > 0) {
      let created = cred.created_at !== undefined ? cred.created_at * 1000 : firstSeen.get(cred.id)
      if (created === undefined) firstSeen.set(cred.id, (created = now))
      expiresAt = created + cred.ttl * 1000
    }
    index.add(cred.key, { identity: new Identity(consumer, { id: cred.id, identifier: cred.id }), expiresAt })
  }
  return index
}

/**
 * A header's value, or an array when the client sent it more than once (Kong: a table). Read
 * from the raw header list: `req.headers` is built lazily by Node on first access, and a route
 * whose plugins never touch it never pays for it (`name` is lower-case).
 */
function headerValue(ctx: RequestContext, name: string): string | string[] | undefined {
  const raw = ctx.req.rawHeaders
  let first: string | undefined
  let values: string[] | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!
    if (n.length !== name.length || (n !== name && n.toLowerCase() !== name)) continue
    if (first === undefined) first = raw[i + 1]!
    else (values ??= [first]).push(raw[i + 1]!)
  }
  return values ?? first
}

const NEED_BODY = Symbol('need body')

function create(config: KeyAuthConfig, env: PluginEnv) {
  const keys = compileKeys(env)
  const consumers = consumersOf(env.document)
  const anonymousConsumer =
    config.anonymous === undefined ? undefined : findConsumer(consumers, config.anonymous)
  if (config.anonymous !== undefined && anonymousConsumer === undefined) {
    env.log.error({ anonymous: config.anonymous }, 'key-auth: the anonymous consumer does not exist')
  }
  // Kong: `Key` alone unless a realm is configured
  const challenge = { 'www-authenticate': config.realm === undefined ? 'Key' : `Key realm="${config.realm}"` }
  const refuse = (ctx: RequestContext, message: string) =>
    reply(ctx, 'UNAUTHORIZED', { message, headers: challenge })
  const names = config.key_names
  const headerNames = names.map((n) => n.toLowerCase())
  const {
    key_in_header: inHeader,
    key_in_query: inQuery,
    key_in_body: inBody,
    hide_credentials: hide,
  } = config

  /** Kong's search order per name: header, query string, body; the first string found wins. */
  const search = (
    ctx: RequestContext,
    body: ParsedBody | null | typeof NEED_BODY,
  ): AuthResult | typeof NEED_BODY => {
    let key: string | undefined
    let at = -1
    for (let i = 0; i < names.length; i++) {
      let v: unknown
      if (inHeader) v = headerValue(ctx, headerNames[i]!)
      if (v === undefined && inQuery) v = queryParam(ctx.query, names[i]!)
      if (v === undefined && inBody) {
        if (body === NEED_BODY) return NEED_BODY
        if (body !== null) v = bodyField(body, names[i]!)
      }
      if (typeof v === 'string') {
        key = v
        at = i
        break
      }
      if (Array.isArray(v)) return refuse(ctx, 'Duplicate API key found')
    }
    if (key === undefined || key === '') return refuse(ctx, 'No API key found in request')
    if (hide) {
      if (body === NEED_BODY && inBody && bodyKind(ctx) !== null) return NEED_BODY
      ctx.removeUpstreamHeader(headerNames[at]!)
      if (ctx.upstreamQuery !== '')
        ctx.upstreamQuery = withoutParams(ctx.upstreamQuery, new Set([names[at]!]))
      if (body !== null && body !== NEED_BODY) stripBodyField(ctx, body, names[at]!)
    }
    const cred = keys.find(key)
    if (cred === undefined || (cred.expiresAt !== Number.POSITIVE_INFINITY && Date.now() >= cred.expiresAt))
      return refuse(ctx, 'Unauthorized')
    return cred.identity
  }

  const withBody = async (ctx: RequestContext): Promise<AuthResult> =>
    search(ctx, await parsedBody(ctx)) as AuthResult

  return {
    access: authFlow({
      anonymous: config.anonymous,
      anonymousConsumer,
      runOnPreflight: config.run_on_preflight,
      check: (ctx) => {
        const r = search(ctx, inBody ? NEED_BODY : null)
        return r === NEED_BODY ? withBody(ctx) : r
      },
    }),
  }
}

/**
 * key-auth (Kong priority 1250): an API key in a header, the query string or the body
 * identifies the consumer. No key → 401 `No API key found in request`; an unknown or expired
 * key → 401 `Unauthorized`; both with `WWW-Authenticate: Key` (`Key realm="…"` with a realm).
 *
 * @example
 *   plugins: [{ name: key-auth, config: { key_names: [apikey], hide_credentials: true } }]
 */
export const plugin: PluginDefinition<KeyAuthConfig> = {
  name: 'key-auth',
  priority: 1250,
  schema,
  noConsumer: true,
  create,
}
