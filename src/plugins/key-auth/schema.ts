import { z } from 'zod'
import { headerName, withoutNulls } from '../../config/fields.js'

// Kong's Konnect-only default for identity_realms (the control plane's own consumers), nulls removed
const CP_REALM = JSON.stringify([{ scope: 'cp' }])

/**
 * key-auth's `config` (Kong 3.x): where the API key is looked for, what happens to it, and who
 * a request without one becomes.
 *
 * @example
 *   schema.parse({}) // → { key_names: ['apikey'], key_in_header: true, key_in_query: true, … }
 */
export const schema = z.strictObject({
  key_names: z
    .array(headerName)
    .min(1)
    .default(['apikey'])
    .describe('names of the header, query parameter or body field holding the key (Kong default ["apikey"])'),
  hide_credentials: z
    .boolean()
    .default(false)
    .describe('remove the key from the header, query string or body sent upstream (default false)'),
  anonymous: z
    .string()
    .min(1)
    .optional()
    .describe('consumer id or username used when the request has no valid key (default none: 401)'),
  key_in_header: z.boolean().default(true).describe('look for the key in the request headers (default true)'),
  key_in_query: z.boolean().default(true).describe('look for the key in the query string (default true)'),
  key_in_body: z
    .boolean()
    .default(false)
    .describe('look for the key in a JSON or form-encoded request body (default false)'),
  run_on_preflight: z
    .boolean()
    .default(true)
    .describe('authenticate OPTIONS preflight requests too (default true)'),
  realm: z
    .string()
    .min(1)
    .optional()
    .describe('realm of the WWW-Authenticate challenge: Key realm="<realm>" (default "kong")'),
  identity_realms: z
    .unknown()
    .optional()
    .refine((v) => v === undefined || JSON.stringify(withoutNulls(v)) === CP_REALM, {
      message: 'identity_realms other than the control plane (Konnect) is not supported by Portico',
    })
    .describe('Konnect identity realms: accepted only at Kong\'s default [{scope: "cp"}]'),
})

export type KeyAuthConfig = z.output<typeof schema>
