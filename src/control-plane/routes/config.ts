import {
  configHash,
  exportDeclarative,
  parseConfigText,
  toDeclarative,
  validateDocument,
} from '../../config/index.js'
import type { AdminResponse } from '../../core/admin.js'
import type { ConfigDocument } from '../../core/entities.js'
import type { ApiError } from '../errors.js'
import { badRequest, declarativeConfigError } from '../errors.js'
import type { AdminCall } from '../http.js'
import { type Kind, listOf, present } from '../kinds.js'
import { policyIssues } from '../upstream-check.js'
import { type AdminContext, ok } from './context.js'

const YAML_TYPE = 'application/yaml; charset=utf-8'

/** `?format=` first, then `Accept`; without either, Kong's `{ "config": "<yaml>" }`. */
function exportFormat(call: AdminCall): 'yaml' | 'json' | 'kong' {
  const format = call.query.get('format')
  if (format === 'yaml' || format === 'yml') return 'yaml'
  if (format === 'json') return 'json'
  const accept = String(call.headers.accept ?? '')
  if (/yaml/i.test(accept)) return 'yaml'
  if (/^application\/json\s*$/i.test(accept)) return 'json'
  return 'kong'
}

/**
 * `GET /config`: the stored entities as a declarative file (entities synthesised by the
 * service registry are not part of it: they come back from the instances).
 */
export function exportConfig(ctx: AdminContext, call: AdminCall): AdminResponse | ApiError {
  const format = call.query.get('format')
  if (format !== null && !['yaml', 'yml', 'json'].includes(format)) {
    return badRequest(`unknown format '${format}': expected yaml or json`)
  }
  const doc = ctx.cp.document
  switch (exportFormat(call)) {
    case 'yaml':
      return {
        status: 200,
        body: exportDeclarative(doc, 'yaml', present),
        headers: { 'content-type': YAML_TYPE },
      }
    case 'json':
      return ok(toDeclarative(doc, present))
    default:
      return ok({ config: exportDeclarative(doc, 'yaml', present) })
  }
}

/** Kong's answer when the file is not an object (a bare string, a list, a number). */
const notAnObject = (flatten: boolean) =>
  declarativeConfigError(
    [{ path: 'error', message: 'failed parsing declarative configuration: expected an object' }],
    undefined,
    flatten,
  )

/** The declarative input of `POST /config`: the body itself, a `config` field, or raw text. */
function readInput(call: AdminCall, ctx: AdminContext): { doc: ConfigDocument; input: unknown } | ApiError {
  const body = call.body
  const flatten = ['1', 'true', 'on', 'yes'].includes(call.query.get('flatten_errors') ?? '')
  let text: string | undefined
  if (body.kind === 'json' && '_format_version' in body.value) {
    const { document, issues } = validateDocument(body.value, ctx.plugins)
    return document === null
      ? declarativeConfigError(issues, body.value, flatten)
      : { doc: document, input: body.value }
  }
  if ((body.kind === 'json' || body.kind === 'form') && typeof body.value.config === 'string') {
    text = body.value.config
  } else if (body.kind === 'other') text = body.raw.toString('utf8')
  if (text === undefined || text.trim() === '') return badRequest('expected a declarative configuration')
  const parsed = parseConfigText(text)
  if (!parsed.ok) return declarativeConfigError(parsed.issues, undefined, flatten)
  const value = parsed.value
  // a text that is a scalar or a list (`config=bobby tables`): Kong's `fields.error`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return notAnObject(flatten)
  const { document, issues } = validateDocument(value, ctx.plugins)
  return document === null ? declarativeConfigError(issues, value, flatten) : { doc: document, input: value }
}

/**
 * `POST /config` (Kong's DB-less semantics): replaces every entity with the given declarative
 * configuration (YAML or JSON; as the body, or in a `config` field, also multipart as
 * `curl -F config=@kong.yml` sends it). The whole file is validated first; any issue answers
 * 400 with all of them and changes nothing. `?check_hash=1` answers 304 when nothing changes.
 * 201 with the entities loaded, grouped by kind and keyed by id as Kong does.
 */
export async function importConfig(ctx: AdminContext, call: AdminCall): Promise<AdminResponse | ApiError> {
  const input = readInput(call, ctx)
  if (!('doc' in input)) return input
  const refused = policyIssues(input.doc, ctx.env.policy)
  if (refused.length > 0) return declarativeConfigError(refused, input.input)
  if (call.query.get('check_hash') === '1' && configHash(input.doc) === ctx.cp.hash) return { status: 304 }
  const result = await ctx.cp.replace(input.doc)
  if (!result.ok) return result.error
  const entities: Record<string, Record<string, unknown>> = {}
  for (const kind of Object.keys(result.doc) as Kind[]) {
    entities[kind] = Object.fromEntries(listOf(result.doc, kind).map((e) => [e.id, present(kind, e)]))
  }
  return { status: 201, body: entities }
}
