import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { api, onUnauthorized, setToken } from './api'
import { Breakers } from './breakers'
import { Dashboard } from './dashboard'
import { EntityList } from './entities'
import { KINDS } from './kinds'
import { Operations } from './operations'
import { PluginList } from './plugins'
import 'uplot/dist/uPlot.min.css'
import './style.css'

const PAGES: Array<[string, string]> = [
  ['dashboard', 'Dashboard'],
  ['services', 'Services'],
  ['routes', 'Routes'],
  ['consumers', 'Consumers'],
  ['plugins', 'Plugins'],
  ['upstreams', 'Upstreams'],
  ['circuit-breakers', 'Circuit breakers'],
  ['operations', 'Operations'],
]

const page = () => location.hash.replace(/^#\/?/, '') || 'dashboard'

/** Asked for when the Admin API answers 401: the token is kept for this tab only. */
function TokenForm(props: { onDone(): void }) {
  const [value, setValue] = useState('')
  const [error, setError] = useState('')
  const submit = async (ev: Event) => {
    ev.preventDefault()
    setToken(value)
    try {
      await api('GET', '/')
      props.onDone()
    } catch (err) {
      setError((err as Error).message)
    }
  }
  return (
    <form class="panel login" onSubmit={submit} aria-label="Admin token">
      <h2>Admin token required</h2>
      <p>This Admin API is protected by PORTICO_ADMIN_TOKEN.</p>
      <label for="token">Admin token</label>
      <input id="token" type="password" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      <button type="submit" class="primary">
        Sign in
      </button>
      {error !== '' && <div class="error">{error}</div>}
    </form>
  )
}

function App() {
  const [current, setCurrent] = useState(page())
  const [locked, setLocked] = useState(false)
  const [node, setNode] = useState<{ hostname: string; version: string } | null>(null)
  useEffect(() => {
    const onHash = () => setCurrent(page())
    addEventListener('hashchange', onHash)
    const off = onUnauthorized(() => setLocked(true))
    api<{ hostname: string; version: string }>('GET', '/').then(setNode, () => {})
    return () => {
      removeEventListener('hashchange', onHash)
      off()
    }
  }, [])
  let body = <Dashboard />
  if (current === 'plugins') body = <PluginList />
  else if (current === 'operations') body = <Operations />
  else if (current === 'circuit-breakers') body = <Breakers />
  else if (KINDS[current] !== undefined) body = <EntityList kind={current} base={`/${current}`} />
  return (
    <>
      <nav>
        <span class="brand">Portico</span>
        {PAGES.map(([id, title]) => (
          <a key={id} href={`#/${id}`} class={current === id ? 'active' : ''}>
            {title}
          </a>
        ))}
        <span class="node">{node === null ? '' : `${node.hostname} · v${node.version}`}</span>
      </nav>
      <main>
        {locked ? (
          <TokenForm
            onDone={() => {
              setLocked(false)
              api<{ hostname: string; version: string }>('GET', '/').then(setNode, () => {})
            }}
          />
        ) : (
          <div key={current}>{body}</div>
        )}
      </main>
    </>
  )
}

render(<App />, document.getElementById('app')!)
