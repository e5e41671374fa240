import { z } from 'zod'
import { cookieName, headerName, path } from '../../config/fields.js'

/** Leeway Portico accepts at most (s): a clock-skew allowance, not a way to extend tokens. */
export const MAX_LEEWAY = 300

const unique = <T extends z.ZodType<string>>(t: T) => z.array(t).transform((a) => [...new Set(a)])

/**
 * jwt's `config` (Kong 3.x), plus two Portico fields: `leeway` and `logout_paths`.
 *
 * @example
 *   schema.parse({ claims_to_verify: ['exp'] }) // → { key_claim_name: 'iss', uri_param_names: ['jwt'], … }
 */
export const schema = z
  .strictObject({
    uri_param_names: unique(z.string().min(1))
      .default(['jwt'])
      .describe('query parameters that may carry the token (Kong default ["jwt"])'),
    cookie_names: unique(cookieName).default([]).describe('cookies that may carry the token (default [])'),
    header_names: unique(headerName)
      .default(['authorization'])
      .describe('headers that may carry `Bearer <token>` (Kong default ["authorization"])'),
    key_claim_name: z
      .string()
      .min(1)
      .default('iss')
      .describe('claim (or header field) whose value names the jwt credential `key` (default "iss")'),
    secret_is_base64: z
      .boolean()
      .default(false)
      .describe('HS* secrets are base64-encoded in the credential (default false)'),
    claims_to_verify: unique(z.enum(['exp', 'nbf']))
      .optional()
      .describe('registered claims checked against the clock: exp, nbf (default none)'),
    anonymous: z
      .string()
      .min(1)
      .optional()
      .describe('consumer id or username used when authentication fails (default none: 401)'),
    run_on_preflight: z
      .boolean()
      .default(true)
      .describe('authenticate OPTIONS preflight requests too (default true)'),
    maximum_expiration: z
      .number()
      .min(0)
      .max(31_536_000)
      .default(0)
      .describe('refuse tokens whose exp is further than this many seconds ahead; 0 = no limit (default 0)'),
    realm: z
      .string()
      .min(1)
      .optional()
      .describe('realm of the challenge: WWW-Authenticate: Bearer realm="<realm>" (default none)'),
    leeway: z
      .number()
      .int()
      .min(0)
      .max(MAX_LEEWAY)
      .default(0)
      .describe(
        `Portico: clock skew allowed on exp and nbf, in seconds, at most ${MAX_LEEWAY} (default 0; Kong has none)`,
      ),
    jwks_max_age: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(600)
      .describe(
        "Portico: the longest a JWKS key set is used before it is fetched again, in seconds; the JWKS response's own Cache-Control max-age or Expires applies when shorter (default 600)",
      ),
    logout_paths: unique(path)
      .default([])
      .describe(
        'Portico: request paths (exact) where a valid token is revoked until its exp and the gateway answers 200 {"message":"revoked"} instead of proxying (default [])',
      ),
  })
  .superRefine((c, ctx) => {
    // Kong's entity check: a maximum expiration means exp is verified
    if (c.maximum_expiration > 0 && !c.claims_to_verify?.includes('exp')) {
      ctx.addIssue({
        code: 'custom',
        path: ['claims_to_verify'],
        message: "failed conditional validation given value of field 'config.maximum_expiration'",
      })
    }
  })

export type JwtConfig = z.output<typeof schema>
