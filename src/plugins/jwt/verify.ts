import type { RequestContext } from '../../core/context.js'
import { reply } from '../../core/errors.js'
import type { Reply } from '../../core/plugin.js'
import type { Identity } from '../kit/auth/identity.js'
import type { Verifier } from './algorithms.js'
import type { JwtCredential } from './credentials.js'
import { type DecodedToken, decodeToken } from './decode.js'
import type { JwksSource } from './jwks.js'
import { revocationId } from './revocation/registry.js'

/** A token whose signature checked out: remembered per token string, so it is checked once. */
export interface Verified {
  /** null when the credential's consumer is missing */
  readonly identity: Identity | null
  readonly claims: Record<string, unknown>
  /** the value of the key claim (for Kong's "Could not find consumer for 'iss=…'") */
  readonly keyValue: string
  readonly revocationId: string
  /** the JWKS whose key verified it, and that key set's generation at the time */
  readonly source: JwksSource | null
  readonly generation: number
}

/** A compiled plugin's view for signature checks. */
export interface SignatureContext {
  readonly credentials: ReadonlyMap<string, readonly JwtCredential[]>
  readonly keyClaim: string
  /** `WWW-Authenticate: Bearer [realm="…", ]error="invalid_token"`, built once per instance */
  readonly challenge: { readonly 'www-authenticate': string }
}

/** jwt's refusals are Kong's `kong.response.exit` bodies: `{"message"}`, no request id. */
export function refuse(ctx: RequestContext, sig: SignatureContext, message: string): Reply {
  return reply(ctx, 'TOKEN_REJECTED', { message, headers: sig.challenge })
}

function verified(
  token: string,
  d: DecodedToken,
  keyValue: string,
  cred: JwtCredential,
  source: JwksSource | null,
): Verified {
  return {
    identity: cred.identity,
    claims: d.claims,
    keyValue,
    revocationId: revocationId(d.claims, token),
    source,
    generation: source?.generation ?? 0,
  }
}

function tryAll(verifiers: readonly Verifier[], d: DecodedToken): boolean {
  for (const v of verifiers) if (v(d.signingInput, d.signature)) return true
  return false
}

/**
 * Kong's jwt checks up to the signature, in Kong's order and with Kong's messages: decode,
 * the key claim (`iss`), the credential, the pinned algorithm (the token's `alg` must be the
 * credential's: `none` and HS/RS confusion cannot pass), then the signature with the
 * credential's own key(s): every secret the consumer holds under that key (rotation), the one
 * whose `kid` the token names first. `kid`, `jku`, `x5u` and `jwk` in the header never choose a
 * key source: `kid` only orders the configured secrets and picks among a JWKS credential's keys,
 * fetched from its configured URL.
 * Synchronous unless a JWKS credential needs its key set refreshed for an unknown `kid`.
 *
 * @example
 *   const r = checkSignature(ctx, sig, token) // → Verified | Reply | Promise<…>
 */
export function checkSignature(
  ctx: RequestContext,
  sig: SignatureContext,
  token: string,
): Verified | Reply | Promise<Verified | Reply> {
  const d = decodeToken(token)
  if (typeof d === 'string') return refuse(ctx, sig, `Bad token; ${d}`)
  const name = sig.keyClaim
  let keyValue = d.claims[name]
  // Lua's `claims[k] or header[k]`: nil and false fall through to the header
  if (keyValue === undefined || keyValue === null || keyValue === false) keyValue = d.header[name]
  if (keyValue === undefined || keyValue === null || keyValue === false) {
    return refuse(ctx, sig, `No mandatory '${name}' in claims`)
  }
  if (keyValue === '') return refuse(ctx, sig, `Invalid '${name}' in claims`)
  const list = typeof keyValue === 'string' ? sig.credentials.get(keyValue) : undefined
  if (list === undefined) return refuse(ctx, sig, `No credentials found for given '${name}'`)
  const key = keyValue as string
  const pinned = list.filter((c) => c.algorithm === d.alg)
  if (pinned.length === 0) return refuse(ctx, sig, 'Invalid algorithm')

  const kid = typeof d.header.kid === 'string' ? d.header.kid : undefined
  let keys = 0
  // rotation: the consumer's secrets under this key, the one the token's `kid` names first,
  // then every other; the kid decides the order, never the outcome
  for (let pass = kid === undefined ? 1 : 0; pass < 2; pass++) {
    for (const c of pinned) {
      if (c.verifier === null || (kid !== undefined && (c.kid === kid) !== (pass === 0))) continue
      keys++
      if (c.verifier(d.signingInput, d.signature)) return verified(token, d, key, c, null)
    }
  }
  const refreshes: Promise<void>[] = []
  for (const c of pinned) {
    if (c.jwks === null) continue
    const vs = c.jwks.verifiers(d.alg, kid)
    keys += vs.length
    if (tryAll(vs, d)) return verified(token, d, key, c, c.jwks)
    if (vs.length === 0) {
      // an unknown kid (or no keys yet): the configured URL may have a new key; rate-limited
      const p = c.jwks.refresh()
      if (p !== null) refreshes.push(p)
    }
  }
  const fail = (found: number) => refuse(ctx, sig, found > 0 ? 'Invalid signature' : 'Invalid key/secret')
  if (refreshes.length === 0) return fail(keys)
  return Promise.all(refreshes).then(() => {
    let again = keys
    for (const c of pinned) {
      if (c.jwks === null) continue
      const vs = c.jwks.verifiers(d.alg, kid)
      again += vs.length
      if (tryAll(vs, d)) return verified(token, d, key, c, c.jwks)
    }
    return fail(again)
  })
}
