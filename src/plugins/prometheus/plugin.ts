import type { MetricsSelection } from '../../core/context.js'
import type { PluginDefinition } from '../../core/plugin.js'
import { type PrometheusConfig, schema } from './schema.js'

/**
 * Kong's `prometheus` plugin. The node records its metrics itself (data-plane observers, no
 * plugin needed for node totals); like Kong, labelled per service/route series are exported
 * only for requests whose route runs an enabled instance. The instance says so in its log
 * phase by handing the request one selection object built at load: one field write per request.
 *
 * @example
 *   plugins:
 *     - name: prometheus
 *       config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, per_consumer: true }
 */
export const plugin: PluginDefinition<PrometheusConfig> = {
  name: 'prometheus',
  priority: 13,
  schema,
  create(config) {
    const selection: MetricsSelection = Object.freeze({
      statusCodes: config.status_code_metrics,
      latency: config.latency_metrics,
      bandwidth: config.bandwidth_metrics,
      perConsumer: config.per_consumer,
    })
    return {
      log(ctx) {
        ctx.metrics = selection
      },
    }
  },
}
