import { useEffect, useState } from 'preact/hooks'
import { api, type Entity, listAll } from './api'
import { Chart } from './chart'

interface Summary {
  window: { from: number; to: number; seconds: number }
  requests: number
  rate_per_s: number
  status: Record<string, number>
  error_rate: number | null
  latency_ms: { p50: number | null; p95: number | null; p99: number | null }
  bytes_in: number
  bytes_out: number
  rate_limited: number
  cache_hits: number
  cache_hit_ratio: number | null
  unique_clients: { hour: number; day: number }
  top: {
    consumers: Array<{ name: string; requests: number }>
    routes: Array<{ name: string; requests: number }>
  }
  nodes: Array<{
    node_id: string
    hostname: string
    config_generation: number
    config_hash: string
    seen_at: number
  }>
}

interface Health {
  upstream: string
  targets: Array<{ target: string; health: string }>
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`)
const ms = (v: number | null) => (v === null ? '–' : `${v.toFixed(1)} ms`)

function Tile(props: { name: string; id: string; value: string; sub?: string }) {
  return (
    <div class="tile" data-tile={props.id}>
      <div class="name">{props.name}</div>
      <div class="value">{props.value}</div>
      {props.sub !== undefined && <div class="sub">{props.sub}</div>}
    </div>
  )
}

function Top(props: { title: string; rows: Array<{ name: string; requests: number }>; id: string }) {
  return (
    <div class="top" data-top={props.id}>
      <h4>{props.title}</h4>
      <table>
        <tbody>
          {props.rows.length === 0 && (
            <tr>
              <td class="muted">no traffic yet</td>
            </tr>
          )}
          {props.rows.map((r) => (
            <tr key={r.name}>
              <td>{r.name}</td>
              <td class="num">{r.requests}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

type Series = Array<Array<number | null>>

async function series(metrics: string[]): Promise<Series> {
  const from = Math.floor(Date.now() / 1000) - 30 * 60
  const all = await Promise.all(
    metrics.map((m) =>
      api<{ data: Array<[number, number | null]> }>(
        'GET',
        `/analytics/timeseries?metric=${m}&from=${from}&step=60`,
      ),
    ),
  )
  return [all[0]!.data.map((p) => p[0]), ...all.map((s) => s.data.map((p) => p[1]))]
}

async function health(): Promise<Health[]> {
  const ups: Entity[] = await listAll('/upstreams')
  return Promise.all(
    ups.map(async (u) => {
      const h = await api<{ data: Array<{ target: string; health: string }> }>(
        'GET',
        `/upstreams/${u.id}/health`,
      )
      return { upstream: String(u.name), targets: h.data }
    }),
  )
}

/** Live numbers of the last five minutes, refreshed every two seconds; charts of the last half hour. */
export function Dashboard() {
  const [summary, setSummary] = useState<Summary | null>(null)
  const [paths, setPaths] = useState<Array<{ name: string; requests: number }>>([])
  const [charts, setCharts] = useState<Record<string, Series>>({})
  const [upstreams, setUpstreams] = useState<Health[]>([])
  const [error, setError] = useState('')
  useEffect(() => {
    let alive = true
    let ticks = 0
    const tick = async () => {
      try {
        const s = await api<Summary | { message: string }>('GET', '/analytics/summary')
        if (!alive) return
        setSummary(s as Summary)
        setError('')
        if (ticks++ % 3 === 0) {
          const [rate, errors, latency, top, h] = await Promise.all([
            series(['rate']),
            series(['error_rate']),
            series(['p50', 'p95', 'p99']),
            api<{ data: Array<{ name: string; requests: number }> }>('GET', '/analytics/top?by=path&limit=5'),
            health(),
          ])
          if (!alive) return
          setCharts({ rate, errors, latency })
          setPaths(top.data)
          setUpstreams(h)
        }
      } catch (err) {
        if (alive) setError((err as Error).message)
      }
    }
    tick()
    const timer = setInterval(tick, 2000)
    return () => {
      alive = false
      clearInterval(timer)
    }
  }, [])
  if (summary === null) return <div class="muted">{error || 'Loading…'}</div>
  const s = summary
  return (
    <section class="dashboard">
      {error !== '' && <div class="error banner">{error}</div>}
      <div class="tiles">
        <Tile
          id="rate"
          name="Requests / s"
          value={s.rate_per_s.toFixed(2)}
          sub={`${s.requests} in ${Math.round(s.window.seconds)} s`}
        />
        <Tile id="requests" name="Requests" value={String(s.requests)} sub="last 5 min" />
        <Tile
          id="errors"
          name="Error rate"
          value={pct(s.error_rate)}
          sub={`4xx ${s.status['4xx']} · 5xx ${s.status['5xx']}`}
        />
        <Tile id="p50" name="p50" value={ms(s.latency_ms.p50)} />
        <Tile id="p95" name="p95" value={ms(s.latency_ms.p95)} />
        <Tile id="p99" name="p99" value={ms(s.latency_ms.p99)} />
        <Tile
          id="uniques"
          name="Unique clients"
          value={String(s.unique_clients.hour)}
          sub={`today ${s.unique_clients.day}`}
        />
        <Tile id="cache" name="Cache hit ratio" value={pct(s.cache_hit_ratio)} sub={`${s.cache_hits} hits`} />
        <Tile id="limited" name="Rate-limited" value={String(s.rate_limited)} />
      </div>
      <div class="charts">
        {charts.rate && <Chart title="Request rate (/s)" series={['rate']} data={charts.rate} />}
        {charts.errors && <Chart title="Error rate" series={['errors']} data={charts.errors} />}
        {charts.latency && (
          <Chart title="Latency (ms)" series={['p50', 'p95', 'p99']} data={charts.latency} unit=" ms" />
        )}
      </div>
      <div class="tops">
        <Top id="consumers" title="Top consumers (hour)" rows={s.top.consumers} />
        <Top id="routes" title="Top routes (hour)" rows={s.top.routes} />
        <Top id="paths" title="Top paths (hour)" rows={paths} />
      </div>
      <div class="tops">
        <div class="top" data-top="health">
          <h4>Upstream targets</h4>
          <table>
            <tbody>
              {upstreams.length === 0 && (
                <tr>
                  <td class="muted">no upstreams</td>
                </tr>
              )}
              {upstreams.flatMap((u) =>
                u.targets.map((t) => (
                  <tr key={`${u.upstream}/${t.target}`}>
                    <td>{u.upstream}</td>
                    <td>{t.target}</td>
                    <td class={`health ${t.health.toLowerCase()}`}>{t.health}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
        <div class="top" data-top="nodes">
          <h4>Nodes</h4>
          <table>
            <tbody>
              {s.nodes.map((n) => (
                <tr key={n.node_id}>
                  <td>{n.hostname}</td>
                  <td class="mono">{n.node_id.slice(0, 8)}</td>
                  <td>generation {n.config_generation}</td>
                  <td class="mono">{n.config_hash.slice(0, 12)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  )
}
