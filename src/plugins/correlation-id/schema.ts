import { z } from 'zod'
import { headerName } from '../../config/fields.js'

/**
 * Kong 3.x `correlation-id` config.
 *
 * @example
 *   schema.parse({}) // → { header_name: 'Kong-Request-ID', generator: 'uuid#counter', echo_downstream: false }
 */
export const schema = z.strictObject({
  header_name: headerName
    .default('Kong-Request-ID')
    .describe('The HTTP header that carries the correlation id (default Kong-Request-ID).'),
  generator: z
    .enum(['uuid', 'uuid#counter', 'tracker'])
    .default('uuid#counter')
    .describe(
      'How a missing id is made: `uuid` (random v4), `uuid#counter` (a per-process uuid and a counter), `tracker` (server address, port, pid, connection serial, requests on the connection, time). Default uuid#counter.',
    ),
  echo_downstream: z
    .boolean()
    .default(false)
    .describe('Also send the id back to the client in the response (default false).'),
})

export type Config = z.infer<typeof schema>
