import type { ConfigIssue } from '../core/entities.js'
import { flattenIssues, splitPath } from './flatten.js'

export { splitPath }

/**
 * Kong's DB error codes (kong/db/errors.lua), which its Admin API sends in error bodies. Clients
 * (decK, the ingress controller, scripts) branch on `code`, so the numbers are Kong's.
 */
export const KONG_CODES = {
  INVALID_PRIMARY_KEY: 1,
  SCHEMA_VIOLATION: 2,
  PRIMARY_KEY_VIOLATION: 3,
  FOREIGN_KEY_VIOLATION: 4,
  UNIQUE_VIOLATION: 5,
  NOT_FOUND: 6,
  INVALID_OFFSET: 7,
  INVALID_SIZE: 9,
  FOREIGN_KEYS_UNRESOLVED: 13,
  DECLARATIVE_CONFIG: 14,
} as const

/**
 * A refused Admin API request: the status and the JSON body Kong would send. An `Error`, so a
 * thrown one keeps its stack and reads well in a log; handlers mostly return it.
 */
export class ApiError extends Error {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly headers: Record<string, string> | undefined

  constructor(status: number, body: Record<string, unknown>, headers?: Record<string, string>) {
    super(typeof body.message === 'string' ? body.message : `Admin API error ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.body = body
    this.headers = headers
  }
}

export const isApiError = (value: unknown): value is ApiError => value instanceof ApiError

export const notFound = (): ApiError => new ApiError(404, { message: 'Not found' })
export const methodNotAllowed = (): ApiError => new ApiError(405, { message: 'Method not allowed' })
export const badRequest = (message: string): ApiError => new ApiError(400, { message })

/**
 * Lua's `pl.pretty.write(t, '')`, which Kong uses to quote keys and error tables in messages:
 * `{name="x"}`. A list is written as Lua holds it: the run from the first element, then the
 * entries after a gap with their (1-based) index, `{[2]="…"}`; keys in sorted order.
 */
export function luaPretty(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value !== 'object') return String(value)
  if (Array.isArray(value)) {
    const parts: string[] = []
    let run = true
    value.forEach((v, i) => {
      if (v === null || v === undefined) run = false
      else parts.push(run ? luaPretty(v) : `[${i + 1}]=${luaPretty(v)}`)
    })
    return `{${parts.join(',')}}`
  }
  return `{${Object.keys(value)
    .sort()
    .map(
      (k) =>
        `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : `["${k}"]`}=${luaPretty((value as Record<string, unknown>)[k])}`,
    )
    .join(',')}}`
}

type Nested = Record<string, unknown> | unknown[]

function setNested(root: Record<string, unknown>, steps: Array<string | number>, message: string): void {
  let node: Nested = root
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as string | number
    const last = i === steps.length - 1
    const container = node as Record<string | number, unknown>
    // a list keeps positions, as Kong's field errors do: the gaps are null, not holes
    if (Array.isArray(node) && typeof step === 'number') while (node.length < step) node.push(null)
    if (last) {
      const prev = container[step]
      container[step] = typeof prev === 'string' ? `${prev}; ${message}` : message
      return
    }
    let next = container[step]
    if (next === undefined || next === null || typeof next !== 'object') {
      next = typeof steps[i + 1] === 'number' ? [] : {}
      container[step] = next
    }
    node = next as Nested
  }
}

/**
 * Kong's nested `fields` from issues, relative to `base` (the entity's path in the document):
 * `config.minute` → `{ config: { minute: "…" } }`, `paths[1]` → `{ paths: [null, "…"] }`, and
 * issues about the entity as a whole under `@entity`.
 *
 * @example
 *   nestFields([{ path: 'plugins[2].config.minute', message: 'expected a number' }], 'plugins[2]')
 *   // → { config: { minute: 'expected a number' } }
 */
export function nestFields(issues: readonly ConfigIssue[], base = ''): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  for (const issue of issues) {
    let rel = issue.path
    if (base !== '' && rel.startsWith(base)) rel = rel.slice(base.length).replace(/^\./, '')
    const steps = splitPath(rel)
    if (steps.length === 0) {
      const list = (fields['@entity'] as string[] | undefined) ?? []
      list.push(issue.message)
      fields['@entity'] = list
    } else setNested(fields, steps, issue.message)
  }
  return fields
}

/**
 * 400 schema violation, as Kong words it: `schema violation (host: required field missing)` or
 * `2 schema violations (host: …; path: …)`.
 *
 * @example
 *   schemaViolation([{ path: 'name', message: 'required field missing' }])
 */
export function schemaViolation(issues: readonly ConfigIssue[], base = ''): ApiError {
  // Kong's order (errors.lua schema_violation): the entity's own messages, then by field name
  const rel = (i: ConfigIssue) =>
    base !== '' && i.path.startsWith(base) ? i.path.slice(base.length).replace(/^\./, '') : i.path
  const ordered = issues
    .map((i) => ({ rel: rel(i), message: i.message }))
    .sort((x, y) => {
      if (x.rel === '' || y.rel === '') return (x.rel === '' ? 0 : 1) - (y.rel === '' ? 0 : 1)
      return x.rel < y.rel ? -1 : x.rel > y.rel ? 1 : 0
    })
  // Kong names an element of a top-level list by its 1-based index: `protocols.1`
  const named = (rel: string) =>
    rel.replace(/^([^.[\]]+)\[(\d+)\]/, (_, f: string, n: string) => `${f}.${Number(n) + 1}`)
  const parts = ordered.map((i) => (i.rel === '' ? i.message : `${named(i.rel)}: ${i.message}`))
  const message =
    parts.length === 1
      ? `schema violation (${parts[0]})`
      : `${parts.length} schema violations (${parts.join('; ')})`
  return new ApiError(400, {
    code: KONG_CODES.SCHEMA_VIOLATION,
    name: 'schema violation',
    message,
    fields: nestFields(issues, base),
  })
}

/** 409: another entity already has this unique value (`{ name = "x" }`). */
export function uniqueViolation(key: Record<string, unknown>): ApiError {
  return new ApiError(409, {
    code: KONG_CODES.UNIQUE_VIOLATION,
    name: 'unique constraint violation',
    message: `UNIQUE violation detected on '${luaPretty(key)}'`,
    fields: key,
  })
}

/** 400: an entity with this id exists already. */
export function primaryKeyViolation(id: string): ApiError {
  return new ApiError(400, {
    code: KONG_CODES.PRIMARY_KEY_VIOLATION,
    name: 'primary key violation',
    message: `primary key violation on key '${luaPretty({ id })}'`,
    fields: { id },
  })
}

/** 400: a foreign key `{ id }` that points at nothing. */
export function foreignKeyViolation(field: string, key: Record<string, unknown>, table: string): ApiError {
  return new ApiError(400, {
    code: KONG_CODES.FOREIGN_KEY_VIOLATION,
    name: 'foreign key violation',
    message: `the foreign key '${luaPretty(key)}' does not reference an existing '${table}' entity.`,
    fields: { [field]: key },
  })
}

/** 400: a foreign key given by name (`service.name=x`) that names nothing. */
export function foreignKeyUnresolved(field: string, by: string, value: unknown, table: string): ApiError {
  const reason = `the foreign key cannot be resolved with '${luaPretty({ [by]: value })}' for an existing '${table}' entity`
  return new ApiError(400, {
    code: KONG_CODES.FOREIGN_KEYS_UNRESOLVED,
    name: 'foreign keys unresolved',
    message: `foreign key unresolved (${field}.${by}: ${reason})`,
    fields: { [field]: { [by]: reason } },
  })
}

export function invalidOffset(offset: string, reason: string): ApiError {
  return new ApiError(400, {
    code: KONG_CODES.INVALID_OFFSET,
    name: 'invalid offset',
    message: `'${offset}' is not a valid offset: ${reason}`,
  })
}

export function invalidSize(message: string): ApiError {
  return new ApiError(400, { code: KONG_CODES.INVALID_SIZE, name: 'invalid size', message })
}

/**
 * 400 for `POST /config`, as Kong's: every issue of the file nested by path as `fields`, the
 * message `declarative config is invalid: {…}` with those fields in Lua's notation, and
 * `flattened_errors` (Kong's `?flatten_errors=1` form, grouped by entity; sent always, as
 * clients that do not ask ignore it). With `flatten`, the entity issues leave `fields` as in Kong.
 */
export function declarativeConfigError(
  issues: readonly ConfigIssue[],
  input?: unknown,
  flatten = false,
): ApiError {
  const { flattened, rest } = flattenIssues(issues, input)
  const fields = nestFields(flatten ? rest : issues)
  return new ApiError(400, {
    code: KONG_CODES.DECLARATIVE_CONFIG,
    name: 'invalid declarative configuration',
    message: `declarative config is invalid: ${luaPretty(fields)}`,
    fields,
    flattened_errors: flattened,
  })
}
