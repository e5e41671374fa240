import { useEffect, useState } from 'preact/hooks'
import { ApiError, api } from './api'
import { type DiffLine, diffLines } from './diff'

function ConfigImport() {
  const [current, setCurrent] = useState('')
  const [text, setText] = useState('')
  const [diff, setDiff] = useState<DiffLine[] | null>(null)
  const [message, setMessage] = useState('')
  const [issues, setIssues] = useState<unknown>(null)
  const exportNow = () => api<string>('GET', '/config?format=yaml').then(setCurrent)
  useEffect(() => {
    exportNow()
  }, [])
  const download = () => {
    const url = URL.createObjectURL(new Blob([current], { type: 'application/yaml' }))
    const a = document.createElement('a')
    a.href = url
    a.download = 'portico.yaml'
    a.click()
    URL.revokeObjectURL(url)
  }
  const apply = async () => {
    try {
      await api('POST', '/config', text)
      setMessage('Applied.')
      setIssues(null)
      setDiff(null)
      await exportNow()
    } catch (err) {
      setMessage((err as Error).message)
      setIssues(err instanceof ApiError ? (err.body.fields ?? null) : null)
    }
  }
  const changes = diff?.filter((d) => d.op !== ' ').length ?? 0
  return (
    <div class="panel" data-op="config">
      <h3>Configuration</h3>
      <p>
        <button type="button" onClick={download}>
          Export (download YAML)
        </button>
        <button type="button" onClick={() => setText(current)}>
          Edit the current configuration
        </button>
      </p>
      <textarea
        rows={14}
        aria-label="declarative configuration to import"
        placeholder="Paste a declarative file (YAML or JSON) to import"
        value={text}
        onInput={(e) => {
          setText(e.currentTarget.value)
          setDiff(null)
        }}
      />
      <p>
        <button type="button" onClick={() => setDiff(diffLines(current, text))} disabled={text.trim() === ''}>
          Show diff
        </button>
        <button type="button" class="primary" disabled={diff === null} onClick={apply}>
          Apply import
        </button>
        <span class="muted"> the diff is shown before anything is applied</span>
      </p>
      {diff !== null && (
        <div class="diff" data-diff={changes}>
          <div class="muted">{changes === 0 ? 'no change' : `${changes} changed lines`}</div>
          <pre>
            {diff
              .filter(
                (d, i, all) => d.op !== ' ' || all.slice(Math.max(0, i - 2), i + 3).some((x) => x.op !== ' '),
              )
              .map((d, i) => (
                <div key={i} class={d.op === '+' ? 'add' : d.op === '-' ? 'del' : ''}>
                  {d.op} {d.text}
                </div>
              ))}
          </pre>
        </div>
      )}
      {message !== '' && <div class={issues === null ? 'ok banner' : 'error banner'}>{message}</div>}
      {issues !== null && <pre class="error">{JSON.stringify(issues, null, 2)}</pre>}
    </div>
  )
}

function CachePurge() {
  const [message, setMessage] = useState('')
  const purge = () =>
    api('DELETE', '/proxy-cache').then(
      () => setMessage('Every cached response was purged, on every node.'),
      (e: Error) => setMessage(e.message),
    )
  return (
    <div class="panel" data-op="cache">
      <h3>Response cache</h3>
      <button type="button" class="danger" onClick={purge}>
        Purge the whole cache
      </button>
      {message !== '' && <div class="banner">{message}</div>}
    </div>
  )
}

interface RegistryService {
  name: string
  instances: Array<{ id: string; url: string; health: string; last_seen: string }>
  [k: string]: unknown
}

function Registry() {
  const [services, setServices] = useState<RegistryService[] | null>(null)
  const [error, setError] = useState('')
  useEffect(() => {
    api<{ data: RegistryService[] }>('GET', '/registry/services').then(
      (r) => setServices(r.data),
      (e: Error) => setError(e.message),
    )
  }, [])
  return (
    <div class="panel" data-op="registry">
      <h3>Service registry</h3>
      {error !== '' && <div class="error">{error}</div>}
      {services?.length === 0 && <p class="muted">No instance has registered.</p>}
      <table>
        <tbody>
          {services?.flatMap((s) =>
            (s.instances ?? []).map((i) => (
              <tr key={`${s.name}/${i.id}`}>
                <td>{s.name}</td>
                <td class="mono">{i.url}</td>
                <td>{i.health}</td>
                <td>last seen {new Date(i.last_seen).toLocaleTimeString()}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </div>
  )
}

export function Operations() {
  return (
    <section class="operations">
      <ConfigImport />
      <CachePurge />
      <Registry />
    </section>
  )
}
