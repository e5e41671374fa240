import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, type Entity, listAll } from './api'
import { type FieldDef, KINDS, type KindDef, show } from './kinds'
import { messageAt } from './schema-form'

export const label = (e: Entity): string =>
  String(e.name ?? e.username ?? e.target ?? e.group ?? e.key ?? e.id)

/** id → label of the entities a list refers to (services of routes, …) */
export function useNames(paths: string[]): Map<string, string> {
  const [names, setNames] = useState(new Map<string, string>())
  const joined = paths.join(' ')
  useEffect(() => {
    Promise.all(paths.map((p) => listAll(p).catch(() => [] as Entity[]))).then((lists) =>
      setNames(new Map(lists.flat().map((e) => [e.id, label(e)]))),
    )
  }, [joined])
  return names
}

/** A row's Edit and Delete buttons (Delete only opens the confirmation). */
export function RowActions(props: { onEdit(): void; onDelete(): void }) {
  return (
    <>
      <button type="button" onClick={props.onEdit}>
        Edit
      </button>
      <button type="button" class="danger" onClick={props.onDelete}>
        Delete
      </button>
    </>
  )
}

/** The delete confirmation: nothing is deleted until the user says so here. */
export function ConfirmDelete(props: { what: string; onConfirm(): void; onCancel(): void }) {
  return (
    <div class="modal" role="dialog" aria-label="Confirm delete">
      <div class="box">
        <p>
          Delete {props.what}? <strong>This cannot be undone.</strong>
        </p>
        <button type="button" class="danger" onClick={props.onConfirm}>
          Confirm delete
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  )
}

type FormValues = Record<string, string | boolean>

function initial(def: KindDef, e: Entity | null): FormValues {
  const out: FormValues = {}
  for (const f of def.fields) {
    const v = e?.[f.name]
    if (f.type === 'bool') out[f.name] = typeof v === 'boolean' ? v : f.default === true
    else if (f.type === 'list') out[f.name] = Array.isArray(v) ? v.join(', ') : ''
    else if (f.type === 'ref') out[f.name] = (v as { id?: string } | null)?.id ?? ''
    else out[f.name] = v === undefined || v === null ? '' : String(v)
  }
  return out
}

function body(def: KindDef, values: FormValues, creating: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of def.fields) {
    if (f.createOnly && !creating) continue
    const v = values[f.name]
    if (f.type === 'bool') out[f.name] = v === true
    else if (typeof v !== 'string' || v.trim() === '') {
      if (!creating && f.type === 'ref') out[f.name] = null
    } else if (f.type === 'number') out[f.name] = Number(v)
    else if (f.type === 'list')
      out[f.name] = v
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
    else if (f.type === 'ref') out[f.name] = { id: v }
    else out[f.name] = v
  }
  return out
}

function Input(props: {
  f: FieldDef
  value: string | boolean
  set(v: string | boolean): void
  names: Map<string, string>
}) {
  const { f, value, set } = props
  const id = `f-${f.name}`
  if (f.type === 'bool')
    return (
      <input
        id={id}
        type="checkbox"
        checked={value === true}
        onChange={(e) => set(e.currentTarget.checked)}
      />
    )
  if (f.type === 'enum' || f.type === 'ref') {
    const options = f.type === 'enum' ? (f.options ?? []).map((o) => [o, o]) : [...props.names]
    return (
      <select id={id} value={String(value)} onChange={(e) => set(e.currentTarget.value)}>
        <option value="">(none)</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    )
  }
  return (
    <input
      id={id}
      type={(f.type === 'number' ? 'number' : f.type === 'secret' ? 'password' : 'text') as 'text'}
      value={String(value)}
      placeholder={f.type === 'list' ? 'comma-separated' : f.createOnly ? 'http://host:port/path' : ''}
      onInput={(e) => set(e.currentTarget.value)}
    />
  )
}

/** Create or edit one entity; the server's message for a field shows under it. */
export function EntityForm(props: {
  kind: string
  base: string
  entity: Entity | null
  onDone(): void
  onCancel(): void
}) {
  const def = KINDS[props.kind]!
  const creating = props.entity === null
  const [values, setValues] = useState(() => initial(def, props.entity))
  const [error, setError] = useState<ApiError | null>(null)
  const names = useNames(def.fields.filter((f) => f.ref).map((f) => f.ref!))
  const submit = async (ev: Event) => {
    ev.preventDefault()
    try {
      if (creating) await api('POST', props.base, body(def, values, true))
      else await api('PATCH', `${props.base}/${props.entity!.id}`, body(def, values, false))
      props.onDone()
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, { message: String(err) }))
    }
  }
  return (
    <form class="panel" onSubmit={submit} aria-label={`${creating ? 'New' : 'Edit'} ${def.one}`}>
      <h3>
        {creating ? 'New' : 'Edit'} {def.one}
      </h3>
      {def.fields
        .filter((f) => creating || !f.createOnly)
        .map((f) => {
          const message = messageAt(error?.body.fields, f.name)
          return (
            <div key={f.name} class={message === undefined ? 'field' : 'field invalid'} data-field={f.name}>
              <label for={`f-${f.name}`}>{f.name}</label>
              <Input
                f={f}
                value={values[f.name] ?? ''}
                names={names}
                set={(v) => setValues({ ...values, [f.name]: v })}
              />
              {message !== undefined && (
                <div class="error" data-error={f.name}>
                  {message}
                </div>
              )}
            </div>
          )
        })}
      {error !== null && (
        <div class="error banner" role="alert">
          {error.message}
        </div>
      )}
      <button type="submit" class="primary">
        {creating ? 'Create' : 'Save'}
      </button>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
    </form>
  )
}

/** A kind's list with search, create, edit, delete (confirmed) and its sub-resources. */
export function EntityList(props: { kind: string; base: string }) {
  const def = KINDS[props.kind]!
  const [items, setItems] = useState<Entity[] | null>(null)
  const [error, setError] = useState('')
  const [query, setQuery] = useState('')
  const [editing, setEditing] = useState<Entity | 'new' | null>(null)
  const [deleting, setDeleting] = useState<Entity | null>(null)
  const [child, setChild] = useState<{ entity: Entity; path: string; kind: string } | null>(null)
  const names = useNames(def.fields.filter((f) => f.ref).map((f) => f.ref!))
  const load = () =>
    listAll(props.base).then(
      (list) => {
        setItems(list)
        setError('')
      },
      (err: Error) => setError(err.message),
    )
  useEffect(() => {
    setItems(null)
    setEditing(null)
    setChild(null)
    load()
  }, [props.base])
  const q = query.toLowerCase()
  const shown = (items ?? []).filter((e) => q === '' || JSON.stringify(e).toLowerCase().includes(q))
  const remove = async (e: Entity) => {
    setDeleting(null)
    try {
      await api('DELETE', `${props.base}/${e.id}`)
    } catch (err) {
      setError((err as Error).message)
    }
    load()
  }
  return (
    <section class="entities" data-kind={props.kind}>
      <header class="bar">
        <h2>{def.title}</h2>
        <input
          type="search"
          placeholder="Search"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          New {def.one}
        </button>
      </header>
      {error !== '' && <div class="error banner">{error}</div>}
      {editing !== null && (
        <EntityForm
          kind={props.kind}
          base={props.base}
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
            {def.columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
            <th />
          </tr>
        </thead>
        <tbody>
          {items === null && (
            <tr>
              <td colSpan={def.columns.length + 1}>Loading…</td>
            </tr>
          )}
          {shown.map((e) => (
            <tr key={e.id} data-row={label(e)}>
              {def.columns.map((c) => (
                <td key={c}>{show(e[c], names)}</td>
              ))}
              <td class="actions">
                {def.children?.map((c) => (
                  <button
                    type="button"
                    key={c.path}
                    onClick={() => setChild({ entity: e, path: c.path, kind: c.kind })}
                  >
                    {c.title}
                  </button>
                ))}
                <RowActions onEdit={() => setEditing(e)} onDelete={() => setDeleting(e)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {deleting !== null && (
        <ConfirmDelete
          what={`${def.one} ${label(deleting)}`}
          onConfirm={() => remove(deleting)}
          onCancel={() => setDeleting(null)}
        />
      )}
      {child !== null && (
        <div class="children">
          <p>
            {def.one} <strong>{label(child.entity)}</strong>
          </p>
          <EntityList kind={child.kind} base={`${props.base}/${child.entity.id}/${child.path}`} />
        </div>
      )}
    </section>
  )
}
