import type { RequestContext } from '../../core/context.js'
import { reply } from '../../core/errors.js'
import type { AccessResult, PluginDefinition, PluginEnv, Reply } from '../../core/plugin.js'
import { BoundedCache } from '../kit/auth/bounded-cache.js'
import { type AuthResult, authFlow, isReply } from '../kit/auth/flow.js'
import { authenticate, consumersOf, findConsumer } from '../kit/auth/identity.js'
import { type ClaimRules, maximumExpirationError, registeredClaimErrors } from './claims.js'
import { compileCredentials } from './credentials.js'
import { MAX_TOKEN_LENGTH } from './decode.js'
import { JWKS_DEFAULTS } from './jwks.js'
import { revocationRoutes } from './revocation/admin.js'
import { nodeRevocations } from './revocation/node.js'
import { DEFAULT_RETENTION_S } from './revocation/registry.js'
import { revocationsPrimary } from './revocation/worker-peer.js'
import { type JwtConfig, schema } from './schema.js'
import { findToken, MULTIPLE } from './token.js'
import { checkSignature, refuse, type SignatureContext, type Verified } from './verify.js'

/** Verified tokens remembered per plugin instance (signature and decoding skipped on a hit). */
export const VERIFIED_CACHE_SIZE = 4096

/** What a logout answers (not an error: the token was revoked as asked). */
const REVOKED: Reply = Object.freeze({
  status: 200,
  headers: Object.freeze({ 'content-type': 'application/json; charset=utf-8' }),
  body: '{"message":"revoked"}',
})

/**
 * The token checks of one instance: find the token, verify its signature (once per token:
 * a signature depends only on the token and this instance's keys), then on every request the
 * clock, the revocation list and the consumer.
 */
function tokenVerifier(
  config: JwtConfig,
  sig: SignatureContext,
  rules: ClaimRules,
  revocations: { has(id: string): boolean },
  noToken: Record<string, string>,
): (ctx: RequestContext) => Verified | Reply | Promise<Verified | Reply> {
  const sources = {
    uriParams: config.uri_param_names,
    cookies: config.cookie_names,
    headers: config.header_names.map((h) => h.toLowerCase()),
  }
  const checkClock = rules.exp || rules.nbf
  const cache = new BoundedCache<string, Verified>(VERIFIED_CACHE_SIZE)

  const afterSignature = (ctx: RequestContext, v: Verified): Verified | Reply => {
    const now = Math.floor(Date.now() / 1000)
    if (checkClock) {
      const errors = registeredClaimErrors(v.claims, rules, now)
      if (errors !== null) return reply(ctx, 'TOKEN_REJECTED', { body: errors, headers: sig.challenge })
    }
    if (rules.maximumExpiration > 0) {
      const error = maximumExpirationError(v.claims, rules.maximumExpiration, now)
      if (error !== null) return reply(ctx, 'TOKEN_REJECTED', { body: error, headers: sig.challenge })
    }
    if (revocations.has(v.revocationId)) return refuse(ctx, sig, 'Token revoked')
    if (v.identity === null) {
      return reply(ctx, 'TOKEN_REJECTED', {
        message: `Could not find consumer for '${sig.keyClaim}=${v.keyValue}'`,
      })
    }
    return v
  }

  return (ctx: RequestContext): Verified | Reply | Promise<Verified | Reply> => {
    const token = findToken(ctx, sources)
    if (token === undefined) return reply(ctx, 'TOKEN_REJECTED', { headers: noToken })
    if (token === MULTIPLE) return refuse(ctx, sig, 'Multiple tokens provided')
    // bounded before any decoding: a huge token costs nothing but this comparison
    if (token.length > MAX_TOKEN_LENGTH) return refuse(ctx, sig, 'Bad token; too large')
    const hit = cache.get(token)
    if (hit !== undefined && (hit.source === null || hit.source.currentGeneration() === hit.generation)) {
      return afterSignature(ctx, hit)
    }
    const remember = (r: Verified | Reply): Verified | Reply => {
      if (isReply(r)) return r
      cache.set(token, r)
      return afterSignature(ctx, r)
    }
    const r = checkSignature(ctx, sig, token)
    return r instanceof Promise ? r.then(remember) : remember(r)
  }
}

function create(config: JwtConfig, env: PluginEnv) {
  const base = config.realm === undefined ? 'Bearer' : `Bearer realm="${config.realm}"`
  const noToken = { 'www-authenticate': base }
  const sig: SignatureContext = {
    credentials: compileCredentials(env, config.secret_is_base64, {
      ...JWKS_DEFAULTS,
      maxAgeMs: config.jwks_max_age * 1000,
    }),
    keyClaim: config.key_claim_name,
    // Kong: `Bearer error="invalid_token"`, or `Bearer realm="x", error="invalid_token"`
    challenge: {
      'www-authenticate': `${base}${config.realm === undefined ? '' : ','} error="invalid_token"`,
    },
  }
  const rules: ClaimRules = {
    exp: config.claims_to_verify?.includes('exp') ?? false,
    nbf: config.claims_to_verify?.includes('nbf') ?? false,
    leeway: config.leeway,
    maximumExpiration: config.maximum_expiration,
  }
  const revocations = nodeRevocations(env.services, env.log)
  const verify = tokenVerifier(config, sig, rules, revocations, noToken)

  const toAuth = (r: Verified | Reply): AuthResult => (isReply(r) ? r : r.identity!)
  const anonymousConsumer =
    config.anonymous === undefined ? undefined : findConsumer(consumersOf(env.document), config.anonymous)
  if (config.anonymous !== undefined && anonymousConsumer === undefined) {
    env.log.error({ anonymous: config.anonymous }, 'jwt: the anonymous consumer does not exist')
  }
  const flow = authFlow({
    anonymous: config.anonymous,
    anonymousConsumer,
    runOnPreflight: config.run_on_preflight,
    check: (ctx) => {
      const r = verify(ctx)
      return r instanceof Promise ? r.then(toAuth) : toAuth(r)
    },
  })
  if (config.logout_paths.length === 0) return { access: flow }

  // logout: a valid token is revoked (here at once, on other nodes through Redis) and the gateway
  // answers itself; without a valid token the usual 401s apply, anonymous or not
  const logoutPaths = new Set(config.logout_paths)
  const logout = (ctx: RequestContext, r: Verified | Reply): AccessResult => {
    if (isReply(r)) return r
    // until the token expires; when exp is not verified here an expired token still passes,
    // so the revocation is kept at least the default retention
    const exp = typeof r.claims.exp === 'number' ? r.claims.exp : 0
    const retained = Math.floor(Date.now() / 1000) + DEFAULT_RETENTION_S
    void revocations.revoke(r.revocationId, rules.exp && exp > 0 ? exp : Math.max(exp, retained))
    authenticate(ctx, r.identity!)
    return REVOKED
  }
  return {
    access(ctx: RequestContext) {
      if (!logoutPaths.has(ctx.path) || (ctx.method === 'OPTIONS' && !config.run_on_preflight))
        return flow(ctx)
      const r = verify(ctx)
      return r instanceof Promise ? r.then((v) => logout(ctx, v)) : logout(ctx, r)
    },
  }
}

/**
 * jwt (Kong priority 1450): a signed JWT (HS256/384/512, RS256/384/512, ES256/384, PS*, EdDSA)
 * from the `Authorization: Bearer` header, the `jwt` query parameter or a cookie, matched to a
 * jwt_secret by its `iss` claim (`key_claim_name`), with Kong's 401 messages. Beyond Kong:
 * several secrets per key (rotation), JWKS URLs, `leeway`, and revocation (`logout_paths`, Admin
 * API `/jwt/revocations`) applied on every node within a second, with no Redis call per request.
 *
 * @example
 *   plugins: [{ name: jwt, config: { claims_to_verify: [exp], logout_paths: [/api/logout] } }]
 */
export const plugin: PluginDefinition<JwtConfig> = {
  name: 'jwt',
  priority: 1450,
  schema,
  noConsumer: true,
  create,
  adminRoutes: revocationRoutes,
  primary: revocationsPrimary,
}
