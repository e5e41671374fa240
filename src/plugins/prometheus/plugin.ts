import type { PluginDefinition } from '../../core/plugin.js'
import { type MetricsSelection, SELECTION } from './recorder.js'
import { type PrometheusConfig, schema } from './schema.js'
import { telemetry } from './telemetry.js'

/**
 * Kong's `prometheus` plugin. Its registration hook declares Kong's series (names, labels and
 * buckets of Kong's exporter), so Kong's Grafana dashboard reads Portico unchanged. Like Kong,
 * the per service/route series are recorded only for requests whose route runs an enabled
 * instance: the instance says so in its log phase by handing the request one selection object
 * built at load (one slot write per request); the node's observer then records them.
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
        ctx.set(SELECTION, selection)
      },
    }
  },
  telemetry,
}
