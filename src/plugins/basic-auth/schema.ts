import { z } from 'zod'

/**
 * basic-auth's `config` (Kong 3.x).
 *
 * @example
 *   schema.parse({}) // → { hide_credentials: false, realm: 'service' }
 */
export const schema = z.strictObject({
  anonymous: z
    .string()
    .min(1)
    .optional()
    .describe('consumer id or username used when authentication fails (default none: 401)'),
  hide_credentials: z
    .boolean()
    .default(false)
    .describe('remove the Authorization / Proxy-Authorization header sent upstream (default false)'),
  realm: z
    .string()
    .min(1)
    .default('service')
    .describe('realm of the challenge: WWW-Authenticate: Basic realm="<realm>" (default "service")'),
})

export type BasicAuthConfig = z.output<typeof schema>
