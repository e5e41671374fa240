/** What the jwt plugin checks in a verified token's claims against the clock. */
export interface ClaimRules {
  readonly exp: boolean
  readonly nbf: boolean
  /** seconds of clock skew allowed on both checks (Portico; Kong has none) */
  readonly leeway: number
  /** seconds; 0 = no limit */
  readonly maximumExpiration: number
}

/**
 * Kong's `verify_registered_claims`: `exp` must be a number and later than now, `nbf` a number
 * not after now, each widened by `leeway`. Returns Kong's error object (`{"exp":"token
 * expired"}`), or null when the claims pass. `now` is in seconds.
 *
 * @example
 *   registeredClaimErrors({ exp: 100 }, { exp: true, nbf: false, leeway: 0, maximumExpiration: 0 }, 100)
 *   // → { exp: 'token expired' }
 */
export function registeredClaimErrors(
  claims: Record<string, unknown>,
  rules: ClaimRules,
  now: number,
): Record<string, string> | null {
  let errors: Record<string, string> | null = null
  if (rules.exp) {
    const exp = claims.exp
    if (typeof exp !== 'number') (errors ??= {}).exp = 'must be a number'
    else if (exp + rules.leeway <= now) (errors ??= {}).exp = 'token expired'
  }
  if (rules.nbf) {
    const nbf = claims.nbf
    if (typeof nbf !== 'number') (errors ??= {}).nbf = 'must be a number'
    else if (nbf - rules.leeway > now) (errors ??= {}).nbf = 'token not valid yet'
  }
  return errors
}

/**
 * Kong's `check_maximum_expiration`: a token must expire within `maximumExpiration` seconds.
 *
 * @example
 *   maximumExpirationError({ exp: 10_000 }, 3600, 0) // → { exp: 'exceeds maximum allowed expiration' }
 */
export function maximumExpirationError(
  claims: Record<string, unknown>,
  maximumExpiration: number,
  now: number,
): Record<string, string> | null {
  if (maximumExpiration <= 0) return null
  const exp = claims.exp
  if (typeof exp !== 'number' || exp - now > maximumExpiration) {
    return { exp: 'exceeds maximum allowed expiration' }
  }
  return null
}
