import { type AdminRequest, type AdminResponse, type AdminRoute, invalidField } from '../core/admin.js'
import type { Analytics } from './analytics.js'
import {
  entityKey,
  MAX_BUCKETS,
  METRICS,
  type Metric,
  nodes,
  TOP_BY,
  type TopBy,
  timeseries,
  top,
  totals,
  uniqueClients,
} from './query.js'

const bad = (message: string, field: string): AdminResponse => invalidField(field, message)

/** `from`/`to`: unix seconds or an ISO date; absent → the fallback */
function time(req: AdminRequest, name: string, fallback: number): number | AdminResponse {
  const v = req.query.get(name)
  if (v === null || v === '') return fallback
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : Date.parse(v) / 1000
  return Number.isFinite(n) ? n : bad('expected unix seconds or an ISO date', name)
}

function range(req: AdminRequest, a: Analytics, defaultSec: number): [number, number] | AdminResponse {
  const now = a.now() / 1000
  const to = time(req, 'to', now)
  if (typeof to !== 'number') return to
  const from = time(req, 'from', to - defaultSec)
  if (typeof from !== 'number') return from
  if (from >= to) return bad('must be before to', 'from')
  return [from, to]
}

function entityParam(req: AdminRequest): string | AdminResponse {
  const key = entityKey(req.query.get('entity') ?? 'all')
  return key ?? bad('expected all, service:NAME, route:NAME or consumer:NAME', 'entity')
}

async function summary(a: Analytics, req: AdminRequest): Promise<AdminResponse> {
  const r = range(req, a, 300)
  if (!Array.isArray(r)) return r
  const entity = entityParam(req)
  if (typeof entity !== 'string') return entity
  await a.flushNode() // the node's own last seconds count too
  const t = await totals(a, entity, r[0], r[1])
  return {
    status: 200,
    body: {
      window: { from: t.from, to: t.to, seconds: t.seconds },
      entity: req.query.get('entity') ?? 'all',
      ...t.totals.describe(t.seconds),
      unique_clients: await uniqueClients(a),
      top: {
        consumers: await top(a, 'consumer', r[1] - 3600, r[1], 5),
        routes: await top(a, 'route', r[1] - 3600, r[1], 5),
      },
      nodes: await nodes(a),
    },
  }
}

async function series(a: Analytics, req: AdminRequest): Promise<AdminResponse> {
  const metric = req.query.get('metric') ?? 'requests'
  if (!(METRICS as readonly string[]).includes(metric))
    return bad(`expected one of ${METRICS.join(', ')}`, 'metric')
  const entity = entityParam(req)
  if (typeof entity !== 'string') return entity
  const res = a.settings.resolutionSec
  const step = Number(req.query.get('step') ?? res)
  if (!Number.isInteger(step) || step <= 0 || (step % res !== 0 && step % 3600 !== 0))
    return bad(`expected a multiple of ${res} seconds`, 'step')
  const r = range(req, a, 3600)
  if (!Array.isArray(r)) return r
  if ((r[1] - r[0]) / Math.min(step, step % 3600 === 0 ? 3600 : res) > MAX_BUCKETS)
    return bad(`range too long for this step (at most ${MAX_BUCKETS} buckets)`, 'step')
  await a.flushNode()
  const data = await timeseries(a, entity, metric as Metric, r[0], r[1], step)
  return { status: 200, body: { entity: req.query.get('entity') ?? 'all', metric, step, data } }
}

async function heavy(a: Analytics, req: AdminRequest): Promise<AdminResponse> {
  const by = req.query.get('by') ?? 'consumer'
  if (!(TOP_BY as readonly string[]).includes(by)) return bad('expected consumer, route or path', 'by')
  const limit = Number(req.query.get('limit') ?? 10)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return bad('expected 1 to 1000', 'limit')
  const r = range(req, a, 3600)
  if (!Array.isArray(r)) return r
  await a.flushNode()
  return { status: 200, body: { by, data: await top(a, by as TopBy, r[0], r[1], limit) } }
}

/** `GET /analytics/summary|timeseries|top` for the Admin API (main mounts them). */
export function analyticsRoutes(a: Analytics): AdminRoute[] {
  return [
    { method: 'GET', path: '/analytics/summary', handle: (req) => summary(a, req) },
    { method: 'GET', path: '/analytics/timeseries', handle: (req) => series(a, req) },
    { method: 'GET', path: '/analytics/top', handle: (req) => heavy(a, req) },
  ]
}

/** The Admin API's answer when analytics are off on this node. */
export function analyticsOffRoutes(): AdminRoute[] {
  const off = (): AdminResponse => ({
    status: 404,
    body: { message: 'analytics are off on this node (PORTICO_ANALYTICS=off)' },
  })
  return ['summary', 'timeseries', 'top'].map((p) => ({
    method: 'GET',
    path: `/analytics/${p}`,
    handle: off,
  }))
}
