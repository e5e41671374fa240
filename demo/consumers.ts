/**
 * The demo's consumers, as data. One source for both sides of every demo credential: the
 * `auth` service signs tokens with these secrets, and the gateway's demo config registers the
 * same keys, so a token from `POST /auth/token` or an `apikey` from here works end to end.
 * These values are public on purpose: they only ever protect loopback demo services.
 */

/**
 * One demo consumer and every credential it has.
 *
 * @example
 *   const alice: DemoConsumer = DEMO_CONSUMERS[0]
 */
export interface DemoConsumer {
  /** Kong consumer `username`; also the JWT `sub` and the basic-auth / `/token` user name */
  username: string
  /** Kong consumer `custom_id` */
  customId: string
  /** password for `POST /token` (and basic-auth, if the gateway config enables it) */
  password: string
  /** key-auth credential: send as `apikey: …` header or `?apikey=…` */
  apiKey: string
  /** jwt credential: `key` is matched against the token's `iss`, as Kong's jwt plugin does */
  jwt: { key: string; secret: string; algorithm: 'HS256' }
  /** OAuth-style client credentials, the other way to ask `POST /token` for a token */
  clientId: string
  clientSecret: string
}

/**
 * alice and bob. HS256 secrets are 32+ characters: shorter HMAC keys are weaker than the hash.
 *
 * @example
 *   DEMO_CONSUMERS.map((c) => c.apiKey)   // → ['alice-key', 'bob-key']
 */
export const DEMO_CONSUMERS: readonly DemoConsumer[] = [
  {
    username: 'alice',
    customId: 'demo-alice',
    password: 'alice-password',
    apiKey: 'alice-key',
    jwt: { key: 'alice-iss', secret: 'alice-hs256-demo-secret-0123456789abcdef', algorithm: 'HS256' },
    clientId: 'alice-client',
    clientSecret: 'alice-client-secret',
  },
  {
    username: 'bob',
    customId: 'demo-bob',
    password: 'bob-password',
    apiKey: 'bob-key',
    jwt: { key: 'bob-iss', secret: 'bob-hs256-demo-secret-fedcba9876543210abcd', algorithm: 'HS256' },
    clientId: 'bob-client',
    clientSecret: 'bob-client-secret',
  },
]

/**
 * The consumer whose jwt credential `key` equals a token's `iss` claim.
 *
 * @example
 *   consumerByIss('bob-iss')?.username   // → 'bob'
 */
export function consumerByIss(iss: unknown): DemoConsumer | undefined {
  return typeof iss === 'string' ? DEMO_CONSUMERS.find((c) => c.jwt.key === iss) : undefined
}

/**
 * The consumers in Kong's declarative format (`_format_version: "3.0"`), ready to drop into the
 * demo gateway config's `consumers:` list.
 *
 * @example
 *   const config = { _format_version: '3.0', consumers: declarativeConsumers(), services: [] }
 */
export function declarativeConsumers(): Array<Record<string, unknown>> {
  return DEMO_CONSUMERS.map((c) => ({
    username: c.username,
    custom_id: c.customId,
    keyauth_credentials: [{ key: c.apiKey }],
    jwt_secrets: [{ key: c.jwt.key, secret: c.jwt.secret, algorithm: c.jwt.algorithm }],
    basicauth_credentials: [{ username: c.username, password: c.password }],
  }))
}
