import { z } from 'zod'
import { ipOrCidr } from '../../config/fields.js'

/**
 * Kong 3.x `ip-restriction` config: at least one of `allow` / `deny`.
 *
 * @example
 *   schema.parse({ deny: ['10.0.0.0/8', '2001:db8::/32'] })
 *   schema.parse({ allow: ['192.168.1.10'], status: 401, message: 'Go away' })
 */
export const schema = z
  .strictObject({
    allow: z
      .array(ipOrCidr)
      .optional()
      .describe('Addresses and CIDR ranges (IPv4 or IPv6) allowed; every other client is refused.'),
    deny: z
      .array(ipOrCidr)
      .optional()
      .describe('Addresses and CIDR ranges (IPv4 or IPv6) refused; checked before `allow`.'),
    status: z
      .number()
      .int()
      .min(400)
      .max(599)
      .optional()
      .describe('Status of a refused request (default 403).'),
    message: z
      .string()
      .optional()
      .describe('Message of a refused request (default "IP address not allowed: <client ip>").'),
  })
  .refine((c) => c.allow !== undefined || c.deny !== undefined, {
    message: "at least one of these fields must be non-empty: 'config.allow', 'config.deny'",
  })

export type Config = z.infer<typeof schema>
