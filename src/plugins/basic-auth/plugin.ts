import type { RequestContext } from '../../core/context.js'
import { reply } from '../../core/errors.js'
import type { PluginDefinition, PluginEnv } from '../../core/plugin.js'
import { type AuthResult, authFlow } from '../kit/auth/flow.js'
import { consumersOf, findConsumer, Identity } from '../kit/auth/identity.js'
import { VerifiedPasswords } from '../kit/auth/verified-passwords.js'
import { type BasicAuthConfig, schema } from './schema.js'

interface BasicCredential {
  readonly id: string
  /** the stored `scrypt$…` hash */
  readonly hash: string
  readonly identity: Identity
}

const BASIC = /^\s*[Bb]asic\s*(\S+)/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * `Basic base64(user:password)` → [user, password]; undefined when the header is not a
 * well-formed Basic credential (Kong: `([^:]+):(.*)` over strict base64).
 */
export function parseBasic(header: string | undefined): [string, string] | undefined {
  if (header === undefined) return undefined
  const m = BASIC.exec(header)
  if (m === null) return undefined
  const b64 = m[1]!
  if (b64.length % 4 === 1 || !BASE64.test(b64)) return undefined
  const decoded = Buffer.from(b64, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) return undefined
  return [decoded.slice(0, colon), decoded.slice(colon + 1)]
}

function create(config: BasicAuthConfig, env: PluginEnv) {
  const consumers = consumersOf(env.document)
  const byUsername = new Map<string, BasicCredential>()
  for (const c of env.document.basicauth_credentials) {
    const consumer = consumers.byId.get(c.consumer.id)
    if (consumer === undefined) continue
    byUsername.set(c.username, {
      id: c.id,
      hash: c.password,
      // Kong's X-Credential-Identifier for basic-auth is the username
      identity: new Identity(consumer, { id: c.id, identifier: c.username }),
    })
  }
  // shared by every basic-auth instance of the node and kept across reloads: a reload must not
  // send every client back through scrypt
  const verified = env.services.shared('basic-auth:verified', () => new VerifiedPasswords())
  const anonymousConsumer =
    config.anonymous === undefined ? undefined : findConsumer(consumers, config.anonymous)
  if (config.anonymous !== undefined && anonymousConsumer === undefined) {
    env.log.error({ anonymous: config.anonymous }, 'basic-auth: the anonymous consumer does not exist')
  }
  const challenge = { 'www-authenticate': `Basic realm="${config.realm}"` }
  // Kong answers every failure alike: `Unauthorized` with the challenge
  const refuse = (ctx: RequestContext) => reply(ctx, 'UNAUTHORIZED', { headers: challenge })

  const check = (ctx: RequestContext): AuthResult | Promise<AuthResult> => {
    const h = ctx.req.headers
    const proxyAuth = h['proxy-authorization']
    const auth = h.authorization
    if (proxyAuth === undefined && auth === undefined) return refuse(ctx)
    if (config.hide_credentials) {
      if (proxyAuth !== undefined) ctx.removeUpstreamHeader('proxy-authorization')
      if (auth !== undefined) ctx.removeUpstreamHeader('authorization')
    }
    // Kong: Proxy-Authorization first, Authorization when that names no known user
    let given = parseBasic(proxyAuth)
    let cred = given && byUsername.get(given[0])
    if (cred === undefined) {
      given = parseBasic(auth)
      cred = given && byUsername.get(given[0])
    }
    const invalid = () => refuse(ctx)
    if (cred === undefined || given === undefined) return invalid()
    const found = cred
    const ok = verified.check(found.id, found.hash, given[1])
    if (ok === true) return found.identity
    if (ok === false) return invalid()
    return ok.then((yes) => (yes ? found.identity : invalid()))
  }

  return {
    access: authFlow({
      anonymous: config.anonymous,
      anonymousConsumer,
      runOnPreflight: true,
      check,
    }),
  }
}

/**
 * basic-auth (Kong priority 1100): `Authorization: Basic …` (or `Proxy-Authorization`) checked
 * against the consumers' basic-auth credentials. No credentials → 401 `Unauthorized`; wrong ones
 * → 401 `Invalid authentication credentials`; both with `WWW-Authenticate: Basic realm="service"`.
 * Stored passwords are scrypt hashes; a successful check is remembered (bounded, in memory) so
 * the hot path costs one HMAC, not one scrypt.
 *
 * @example
 *   plugins: [{ name: basic-auth, config: { hide_credentials: true } }]
 */
export const plugin: PluginDefinition<BasicAuthConfig> = {
  name: 'basic-auth',
  priority: 1100,
  schema,
  noConsumer: true,
  create,
}
