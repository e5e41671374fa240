import { z } from 'zod'

/**
 * Kong 3.x `prometheus` plugin config. Every field defaults to false as in Kong: an instance at
 * its defaults only marks its services/routes as observed (node metrics, upstream health off);
 * each `*_metrics` field turns one family of labelled series on for the requests it covers.
 *
 * @example
 *   schema.parse({ status_code_metrics: true, per_consumer: true })
 */
export const schema = z.strictObject({
  per_consumer: z
    .boolean()
    .default(false)
    .describe(
      'fill the consumer label of kong_http_requests_total and kong_bandwidth_bytes (Kong default false)',
    ),
  status_code_metrics: z
    .boolean()
    .default(false)
    .describe(
      'export kong_http_requests_total by service, route, code, source, consumer (Kong default false)',
    ),
  latency_metrics: z
    .boolean()
    .default(false)
    .describe(
      'export kong_request_latency_ms, kong_upstream_latency_ms and kong_kong_latency_ms (Kong default false)',
    ),
  bandwidth_metrics: z
    .boolean()
    .default(false)
    .describe('export kong_bandwidth_bytes by service, route, direction, consumer (Kong default false)'),
  upstream_health_metrics: z
    .boolean()
    .default(false)
    .describe('export kong_upstream_target_health for every upstream target (Kong default false)'),
  ai_metrics: z
    .literal(false, { error: 'ai_metrics: Portico has no AI proxy plugins; only false is accepted' })
    .default(false)
    .describe('Kong AI Gateway metrics: accepted only at its default, false'),
})

export type PrometheusConfig = z.output<typeof schema>
