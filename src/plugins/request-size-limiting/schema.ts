import { z } from 'zod'

/**
 * Kong 3.x `request-size-limiting` config.
 *
 * @example
 *   schema.parse({}) // → { allowed_payload_size: 128, size_unit: 'megabytes', require_content_length: false }
 */
export const schema = z.strictObject({
  allowed_payload_size: z
    .number()
    .int()
    .min(0)
    .default(128)
    .describe('Largest request body allowed, in `size_unit` (default 128).'),
  size_unit: z
    .enum(['megabytes', 'kilobytes', 'bytes'])
    .default('megabytes')
    .describe(
      'Unit of `allowed_payload_size`: megabytes (2^20), kilobytes (2^10) or bytes (default megabytes).',
    ),
  require_content_length: z
    .boolean()
    .default(false)
    .describe('Refuse (411) requests that have neither a Content-Length nor a chunked body (default false).'),
})

export type Config = z.infer<typeof schema>
