import { useEffect, useState } from 'preact/hooks'
import { api } from './api'

/** One breaker as `GET /circuit-breakers` lists it. */
interface Breaker {
  id: string
  service: string
  route: string | null
  target: string | null
  policy: string
  state: string
  mode: string
  retry_after_s: number
  open_seconds: number
  counters: { calls: number; failures: number; slow: number; rejected: number; trials: number }
  transitions: Record<string, number>
}

/**
 * The circuit breakers of the node: state, where their state lives (local, redis, or the local
 * fallback while Redis is away), counters, and a button that forces one open (held until closed
 * here) or closed. Refreshed every two seconds.
 */
export function Breakers() {
  const [list, setList] = useState<Breaker[] | null>(null)
  const [error, setError] = useState('')
  const load = () =>
    api<{ data: Breaker[] }>('GET', '/circuit-breakers').then(
      (r) => {
        setList(r.data)
        setError('')
      },
      (e: Error) => setError(e.message),
    )
  useEffect(() => {
    void load()
    const timer = setInterval(load, 2000)
    return () => clearInterval(timer)
  }, [])
  const force = (b: Breaker, what: 'open' | 'close') =>
    api('POST', `/circuit-breakers/${encodeURIComponent(b.id)}/${what}`).then(load, (e: Error) =>
      setError(e.message),
    )
  return (
    <section class="panel" data-page="circuit-breakers">
      <h2>Circuit breakers</h2>
      {error !== '' && <div class="error">{error}</div>}
      {list?.length === 0 && <p class="muted">No circuit-breaker plugin is configured.</p>}
      <table>
        <thead>
          <tr>
            <th>service</th>
            <th>target</th>
            <th>state</th>
            <th>mode</th>
            <th>calls</th>
            <th>failures</th>
            <th>slow</th>
            <th>failed fast</th>
            <th>opened</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list?.map((b) => {
            const closed = b.state === 'closed'
            return (
              <tr key={b.id} data-breaker={b.id} data-state={b.state}>
                <td>
                  {b.service}
                  {b.route === null ? '' : ` (route ${b.route})`}
                </td>
                <td class="mono">{b.target ?? 'whole service'}</td>
                <td class={`state-${b.state}`}>
                  {b.state.replace('_', ' ')}
                  {b.state === 'open' ? ` · ${b.retry_after_s} s left` : ''}
                </td>
                <td>{b.mode}</td>
                <td>{b.counters.calls}</td>
                <td>{b.counters.failures}</td>
                <td>{b.counters.slow}</td>
                <td>{b.counters.rejected}</td>
                <td>{(b.transitions['closed>open'] ?? 0) + (b.transitions['half_open>open'] ?? 0)}</td>
                <td>
                  <button type="button" onClick={() => force(b, closed ? 'open' : 'close')}>
                    {closed ? 'Force open' : 'Close'}
                  </button>
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </section>
  )
}
