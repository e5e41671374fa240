import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, type Entity, listAll } from './api'
import { ConfirmDelete, RowActions, useNames } from './entities'
import { collect, initialValues, type JsonSchema, SchemaFields, type Values } from './schema-form'

const SCOPES = [
  ['service', '/services'],
  ['route', '/routes'],
  ['consumer', '/consumers'],
] as const

/** Create or edit a plugin instance: its config form comes from the plugin's schema. */
function PluginForm(props: { entity: Entity | null; onDone(): void; onCancel(): void }) {
  const editing = props.entity
  const [names, setNames] = useState<string[]>([])
  const [name, setName] = useState(String(editing?.name ?? ''))
  const [schema, setSchema] = useState<JsonSchema | null>(null)
  const [values, setValues] = useState<Values>({})
  const [scope, setScope] = useState<Record<string, string>>(() =>
    Object.fromEntries(SCOPES.map(([s]) => [s, (editing?.[s] as { id?: string } | null)?.id ?? ''])),
  )
  const [enabled, setEnabled] = useState(editing?.enabled !== false)
  const [error, setError] = useState<ApiError | null>(null)
  const refs = {
    service: useNames(['/services']),
    route: useNames(['/routes']),
    consumer: useNames(['/consumers']),
  }
  useEffect(() => {
    api<{ enabled_plugins: string[] }>('GET', '/plugins/enabled').then((r) => setNames(r.enabled_plugins))
  }, [])
  useEffect(() => {
    setSchema(null)
    if (name === '') return
    api<JsonSchema>('GET', `/schemas/plugins/${encodeURIComponent(name)}?format=jsonschema`).then((s) => {
      setSchema(s)
      setValues(initialValues(s, (editing?.config as Record<string, unknown>) ?? {}))
    })
  }, [name])
  const submit = async (ev: Event) => {
    ev.preventDefault()
    if (schema === null) return
    const payload: Record<string, unknown> = { name, enabled, config: collect(schema, values) }
    for (const [s] of SCOPES) {
      if (scope[s] !== '') payload[s] = { id: scope[s] }
      else if (editing !== null) payload[s] = null
    }
    try {
      if (editing === null) await api('POST', '/plugins', payload)
      else await api('PATCH', `/plugins/${editing.id}`, payload)
      props.onDone()
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, { message: String(err) }))
    }
  }
  const fields = error?.body.fields as Record<string, unknown> | undefined
  return (
    <form class="panel" onSubmit={submit} aria-label="Plugin">
      <h3>{editing === null ? 'New plugin' : `Edit plugin ${name}`}</h3>
      <div class="field">
        <label for="p-name">plugin</label>
        <select
          id="p-name"
          value={name}
          disabled={editing !== null}
          onChange={(e) => setName(e.currentTarget.value)}
        >
          <option value="">(choose)</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      {SCOPES.map(([s]) => (
        <div class="field" key={s}>
          <label for={`p-${s}`}>{s}</label>
          <select
            id={`p-${s}`}
            value={scope[s]}
            onChange={(e) => setScope({ ...scope, [s]: e.currentTarget.value })}
          >
            <option value="">(all)</option>
            {[...refs[s]].map(([id, text]) => (
              <option key={id} value={id}>
                {text}
              </option>
            ))}
          </select>
          {typeof fields?.[s] === 'string' && <div class="error">{fields[s] as string}</div>}
        </div>
      ))}
      <div class="field">
        <label for="p-enabled">enabled</label>
        <input
          id="p-enabled"
          type="checkbox"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
      </div>
      {schema !== null && (
        <fieldset class="config">
          <legend>config</legend>
          <SchemaFields
            schema={schema}
            values={values}
            errors={fields?.config}
            onChange={(path, v) => setValues({ ...values, [path]: v })}
          />
        </fieldset>
      )}
      {error !== null && (
        <div class="error banner" role="alert">
          {error.message}
        </div>
      )}
      <button type="submit" class="primary" disabled={schema === null}>
        {editing === null ? 'Create' : 'Save'}
      </button>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
    </form>
  )
}

export function PluginList() {
  const [items, setItems] = useState<Entity[] | null>(null)
  const [editing, setEditing] = useState<Entity | 'new' | null>(null)
  const [deleting, setDeleting] = useState<Entity | null>(null)
  const [query, setQuery] = useState('')
  const [error, setError] = useState('')
  const names = useNames(['/services', '/routes', '/consumers'])
  const load = () => listAll('/plugins').then(setItems, (e: Error) => setError(e.message))
  useEffect(() => {
    load()
  }, [])
  const scopeOf = (p: Entity) =>
    SCOPES.map(([s]) => {
      const id = (p[s] as { id?: string } | null)?.id
      return id === undefined ? '' : `${s} ${names.get(id) ?? id}`
    })
      .filter((x) => x !== '')
      .join(', ') || 'global'
  const shown = (items ?? []).filter((p) => query === '' || JSON.stringify(p).includes(query))
  return (
    <section class="entities" data-kind="plugins">
      <header class="bar">
        <h2>Plugins</h2>
        <input
          type="search"
          placeholder="Search"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          New plugin
        </button>
      </header>
      {error !== '' && <div class="error banner">{error}</div>}
      {editing !== null && (
        <PluginForm
          entity={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onDone={() => {
            setEditing(null)
            load()
          }}
        />
      )}
      <table>
        <thead>
          <tr>
            <th>name</th>
            <th>applies to</th>
            <th>enabled</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {shown.map((p) => (
            <tr key={p.id} data-row={String(p.name)}>
              <td>{String(p.name)}</td>
              <td>{scopeOf(p)}</td>
              <td>{p.enabled === false ? 'no' : 'yes'}</td>
              <td class="actions">
                <RowActions onEdit={() => setEditing(p)} onDelete={() => setDeleting(p)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {deleting !== null && (
        <ConfirmDelete
          what={`plugin ${String(deleting.name)} (${scopeOf(deleting)})`}
          onCancel={() => setDeleting(null)}
          onConfirm={async () => {
            setDeleting(null)
            await api('DELETE', `/plugins/${deleting.id}`).catch((e: Error) => setError(e.message))
            load()
          }}
        />
      )}
    </section>
  )
}
