import { z } from 'zod'
import { headerName } from '../../config/fields.js'

const present = (v: string | undefined): boolean => v !== undefined && v.length > 0

/**
 * Kong 3.x `request-termination` config, with Kong's cross-field rules.
 *
 * @example
 *   schema.parse({})                                  // → { status_code: 503, echo: false }
 *   schema.parse({ status_code: 403, message: 'So long' })
 *   schema.parse({ body: '<h1>closed</h1>', content_type: 'text/html' })
 */
export const schema = z
  .strictObject({
    status_code: z
      .number()
      .int()
      .min(100)
      .max(599)
      .default(503)
      .describe('The response status, 100–599 (default 503).'),
    message: z
      .string()
      .optional()
      .describe(
        'The message of the default `{"message": …}` body; without it Kong\'s text for the status (401, 404, 405, 500, 502, 503) or no body.',
      ),
    content_type: z.string().optional().describe('Content-Type of `body` (needs `body`).'),
    body: z.string().optional().describe('A raw response body, sent as is instead of the message.'),
    echo: z
      .boolean()
      .default(false)
      .describe('Answer with a JSON copy of the request (for debugging; default false).'),
    trigger: headerName
      .optional()
      .describe('Only terminate requests that carry this header or query argument; others pass through.'),
  })
  .superRefine((c, issue) => {
    if (present(c.message) && (present(c.content_type) || present(c.body)))
      issue.addIssue({ code: 'custom', message: 'message cannot be used with content_type or body' })
    if (present(c.content_type) && !present(c.body))
      issue.addIssue({ code: 'custom', message: 'content_type requires a body' })
    if (c.echo && (present(c.content_type) || present(c.body)))
      issue.addIssue({ code: 'custom', message: 'echo cannot be used with content_type and body' })
  })

export type Config = z.infer<typeof schema>
