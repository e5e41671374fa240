/**
 * A form generated from a plugin's JSON schema (`GET /schemas/plugins/{name}?format=jsonschema`): one input per
 * property, defaults filled in, nested records as fieldsets, the server's validation message
 * under the field it names. Values stay strings while typed; {@link collect} turns them into
 * the config object sent to the Admin API.
 */

export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  enum?: unknown[]
  default?: unknown
  description?: string
  required?: string[]
  anyOf?: JsonSchema[]
}

/** form state: a path (`redis.host`) → what the input holds */
export type Values = Record<string, string | boolean>

const typeOf = (s: JsonSchema): string => {
  if (Array.isArray(s.type)) return s.type.find((t) => t !== 'null') ?? 'string'
  if (s.type !== undefined) return s.type
  if (s.enum !== undefined) return 'enum'
  const alt = s.anyOf?.find((a) => a.type !== 'null')
  return alt === undefined ? 'json' : typeOf(alt)
}

/** The inputs' starting values: the schema's defaults, or what an existing config holds. */
export function initialValues(schema: JsonSchema, config: Record<string, unknown> = {}, prefix = ''): Values {
  const out: Values = {}
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    const path = prefix + name
    const value = config[name] ?? s.default
    const t = typeOf(s)
    if (t === 'object' && s.properties !== undefined) {
      Object.assign(out, initialValues(s, (value as Record<string, unknown>) ?? {}, `${path}.`))
    } else if (t === 'boolean') out[path] = value === true
    else if (t === 'array') out[path] = Array.isArray(value) ? value.join(', ') : ''
    else if (t === 'json') out[path] = value === undefined ? '' : JSON.stringify(value)
    else out[path] = value === undefined || value === null ? '' : String(value)
  }
  return out
}

/** The config object the inputs describe; empty inputs are left out (the server's defaults apply). */
export function collect(schema: JsonSchema, values: Values, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    const path = prefix + name
    const t = typeOf(s)
    if (t === 'object' && s.properties !== undefined) {
      const nested = collect(s, values, `${path}.`)
      if (Object.keys(nested).length > 0) out[name] = nested
      continue
    }
    const v = values[path]
    if (t === 'boolean') {
      if (typeof v === 'boolean') out[name] = v
      continue
    }
    if (typeof v !== 'string' || v.trim() === '') continue
    if (t === 'number' || t === 'integer') out[name] = Number(v)
    else if (t === 'array') {
      const items = v
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
      const it = s.items === undefined ? 'string' : typeOf(s.items)
      out[name] = it === 'number' || it === 'integer' ? items.map(Number) : items
    } else if (t === 'json') {
      try {
        out[name] = JSON.parse(v)
      } catch {
        out[name] = v
      }
    } else out[name] = v
  }
  return out
}

/** the server's message for a path of Kong's nested `fields` (`config.minute`) */
export function messageAt(fields: unknown, path: string): string | undefined {
  let at = fields
  for (const step of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined
    at = (at as Record<string, unknown>)[step]
  }
  if (typeof at === 'string') return at
  if (Array.isArray(at)) return at.filter((x) => typeof x === 'string').join('; ') || undefined
  return undefined
}

interface Props {
  schema: JsonSchema
  values: Values
  /** Kong's `fields` of the last 400, relative to this form (`fields.config`) */
  errors: unknown
  onChange(path: string, value: string | boolean): void
  prefix?: string
}

export function SchemaFields({ schema, values, errors, onChange, prefix = '' }: Props) {
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([name, s]) => {
        const path = prefix + name
        const t = typeOf(s)
        if (t === 'object' && s.properties !== undefined)
          return (
            <fieldset key={path} class="nested">
              <legend>{name}</legend>
              <SchemaFields
                schema={s}
                values={values}
                errors={errors}
                onChange={onChange}
                prefix={`${path}.`}
              />
            </fieldset>
          )
        const id = `cfg-${path.replace(/\./g, '-')}`
        const message = messageAt(errors, path)
        const v = values[path]
        let input: preact.JSX.Element
        const enumOf = s.enum ?? (s.items?.enum as unknown[] | undefined)
        if (t === 'boolean')
          input = (
            <input
              id={id}
              type="checkbox"
              checked={v === true}
              onChange={(e) => onChange(path, e.currentTarget.checked)}
            />
          )
        else if (enumOf !== undefined && t !== 'array')
          input = (
            <select id={id} value={String(v ?? '')} onChange={(e) => onChange(path, e.currentTarget.value)}>
              <option value="">(default)</option>
              {enumOf.map((o) => (
                <option key={String(o)} value={String(o)}>
                  {String(o)}
                </option>
              ))}
            </select>
          )
        else
          input = (
            <input
              id={id}
              type={(t === 'number' || t === 'integer' ? 'number' : 'text') as 'text'}
              step="any"
              value={String(v ?? '')}
              placeholder={t === 'array' ? 'comma-separated' : t === 'json' ? 'JSON' : ''}
              onInput={(e) => onChange(path, e.currentTarget.value)}
            />
          )
        return (
          <div key={path} class={message === undefined ? 'field' : 'field invalid'} data-field={path}>
            <label for={id}>{name}</label>
            {input}
            {message !== undefined && (
              <div class="error" data-error={path}>
                {message}
              </div>
            )}
            {s.description !== undefined && <div class="hint">{s.description}</div>}
          </div>
        )
      })}
    </>
  )
}
