import { z } from 'zod'
import {
  host,
  integer,
  kongComments,
  name,
  path,
  port,
  tags,
  timeout,
  timestamp,
  uuid,
  withoutNulls,
} from './fields.js'
import { parseServiceUrl } from './url.js'

const URL_FIELDS = ['protocol', 'host', 'port', 'path'] as const

/** A `url` given together with the fields it stands for: which of them win would be a guess. */
class UrlClash {
  constructor(readonly fields: string[]) {}
}

function checkUrl(url: unknown, ctx: z.RefinementCtx): void {
  const message =
    url instanceof UrlClash
      ? `url cannot be combined with ${url.fields.join(', ')}`
      : typeof url === 'string'
        ? (parseServiceUrl(url) as { message?: string }).message
        : 'expected a string'
  if (message !== undefined) ctx.addIssue({ code: 'custom', message })
}

const serviceObject = z
  .strictObject({
    id: uuid.optional(),
    name: name.optional(),
    /** Kong's shorthand: expanded before validation, so only present here when it is wrong */
    url: z.unknown().superRefine(checkUrl).optional(),
    protocol: z.enum(['http', 'https', 'ws', 'wss']).default('http'),
    host,
    port: port.default(80),
    path: path.optional(),
    retries: integer(0, 32767).default(5),
    connect_timeout: timeout.default(60000),
    write_timeout: timeout.default(60000),
    read_timeout: timeout.default(60000),
    enabled: z.boolean().default(true),
    tls_verify: z.boolean().optional(),
    tls_verify_depth: integer(0, 64).optional(),
    ca_certificates: z.array(uuid).optional(),
    tags: tags.optional(),
    created_at: timestamp.optional(),
    updated_at: timestamp.optional(),
    ...kongComments,
  })
  .superRefine((service, ctx) => {
    if (service.protocol === 'https' || service.protocol === 'wss') return
    // Kong: the upstream TLS fields only mean something on a TLS service
    for (const field of ['tls_verify', 'tls_verify_depth', 'ca_certificates'] as const) {
      if (service[field] === undefined) continue
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `value must be null: ${field} only applies when protocol is 'https' or 'wss'`,
      })
    }
  })
  .transform(({ url: _url, _comment, _ignore, ...service }) => service)

/** Expands a valid, unambiguous `url`; anything else is left for the schema to report. */
function expandUrl(input: unknown): unknown {
  const value = withoutNulls(input)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const { url, ...rest } = value as Record<string, unknown>
  if (url === undefined) return value
  const clash = URL_FIELDS.filter((field) => field in rest)
  if (clash.length > 0) return { ...rest, url: new UrlClash(clash) }
  const parsed = typeof url === 'string' ? parseServiceUrl(url) : undefined
  return parsed?.ok ? { ...rest, ...parsed.value } : value
}

/**
 * A service (Kong 3.x): where requests go, with the `url` shorthand expanded.
 *
 * @example
 *   serviceSchema.parse({ url: 'https://api.internal/v1' }) // → { protocol: 'https', host: 'api.internal', port: 443, path: '/v1', retries: 5, … }
 */
export const serviceSchema = z.preprocess(expandUrl, serviceObject)
