import { z } from 'zod'
import { linearRegexError } from '../../core/linear-regex.js'

export const METHODS = [
  'GET',
  'HEAD',
  'PUT',
  'PATCH',
  'POST',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
] as const

/**
 * Kong accepts `*` or anything that compiles as a regex; flat origins compile too. Regexes run on
 * the linear-time engine (core/linear-regex.ts), so no origin pattern can stall the event loop.
 */
const origin = z.string().superRefine((value, ctx) => {
  if (value === '*') return
  const error = linearRegexError(value)
  if (error !== undefined)
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a valid regex: ${error}` })
})

/**
 * Kong 3.x `cors` config.
 *
 * @example
 *   schema.parse({ origins: ['https://app.example.com', 'https://.*\\.example\\.org'], credentials: true })
 */
export const schema = z.strictObject({
  origins: z
    .array(origin)
    .optional()
    .describe(
      'Allowed origins for Access-Control-Allow-Origin: exact origins (`https://a.example.com`), regexes (anything with other characters than letters, digits and `.:/-`; anchored at both ends; matched against the host alone when it has no `:`), or `*`. Absent or `*`: any origin.',
    ),
  headers: z
    .array(z.string())
    .optional()
    .describe(
      "Access-Control-Allow-Headers of a preflight; absent: the request's Access-Control-Request-Headers.",
    ),
  exposed_headers: z
    .array(z.string())
    .optional()
    .describe('Access-Control-Expose-Headers of actual responses; absent: none.'),
  methods: z
    .array(z.enum(METHODS))
    .default(() => [...METHODS])
    .describe('Access-Control-Allow-Methods of a preflight (default all nine methods).'),
  max_age: z
    .number()
    .optional()
    .describe('Access-Control-Max-Age of a preflight, in seconds; absent: not sent.'),
  credentials: z
    .boolean()
    .default(false)
    .describe('Send Access-Control-Allow-Credentials: true (default false).'),
  private_network: z
    .boolean()
    .default(false)
    .describe(
      'Answer a preflight carrying Access-Control-Request-Private-Network: true with Access-Control-Allow-Private-Network: true (default false).',
    ),
  preflight_continue: z
    .boolean()
    .default(false)
    .describe('Proxy preflight requests to the upstream instead of answering them (default false).'),
  allow_origin_absent: z
    .boolean()
    .default(true)
    .describe('Add CORS headers to responses to requests without an Origin header (default true).'),
})

export type Config = z.infer<typeof schema>
