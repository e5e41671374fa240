import { z } from 'zod'
import { validateDocument } from '../../config/index.js'
import type { AdminResponse } from '../../core/admin.js'
import { type ApiError, schemaViolation } from '../errors.js'
import type { AdminCall } from '../http.js'
import { type Kind, SPECS } from '../kinds.js'
import { entitySchema, pluginKongSchema } from '../kong-schema.js'
import { type AdminContext, inputFor, ok } from './context.js'

const isKind = (name: string): name is Kind => Object.hasOwn(SPECS, name)

/**
 * Kong's `POST /schemas/{entity}/validate` and `/schemas/plugins/validate`: the body checked
 * as that entity alone (foreign keys are not looked up), nothing stored.
 */
function validateOne(ctx: AdminContext, kind: Kind, call: AdminCall): AdminResponse | ApiError {
  const body = inputFor(ctx, kind, call.body)
  const entity: Record<string, unknown> = { ...body }
  for (const ref of Object.keys(SPECS[kind].refs)) delete entity[ref]
  const { issues } = validateDocument({ _format_version: '3.0', [kind]: [entity] }, ctx.plugins)
  if (issues.length > 0) return schemaViolation(issues, `${kind}[0]`)
  return ok({ message: 'schema validation successful' })
}

/**
 * `/schemas/{entity}`, `/schemas/plugins/{name}` (also Kong's older `/plugins/schema/{name}`) in
 * Kong's format; `?format=jsonschema` gives a plugin's config as JSON Schema instead (forms).
 */
export function mountSchemas(ctx: AdminContext): void {
  const r = ctx.router
  const plugin = (call: AdminCall) => {
    const def = ctx.plugins.get(call.params.name as string)
    if (def === undefined) return { status: 404, body: { message: `No plugin named '${call.params.name}'` } }
    if (call.query.get('format') === 'jsonschema')
      return ok(z.toJSONSchema(def.schema, { io: 'input', unrepresentable: 'any' }))
    return ok(pluginKongSchema(def))
  }
  r.add('GET', '/schemas/plugins/:name', plugin)
  r.add('GET', '/plugins/schema/:name', plugin)
  r.add('GET', '/schemas/:entity', (call) => {
    const name = call.params.entity as string
    if (!isKind(name)) return { status: 404, body: { message: `No entity named '${name}'` } }
    return ok(entitySchema(SPECS[name]))
  })
  r.add('POST', '/schemas/plugins/validate', (call) => validateOne(ctx, 'plugins', call))
  r.add('POST', '/schemas/:entity/validate', (call) => {
    const name = call.params.entity as string
    if (!isKind(name)) return { status: 404, body: { message: `No entity named '${name}'` } }
    return validateOne(ctx, name, call)
  })
}
