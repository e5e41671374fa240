import type { AdminResponse } from '../../core/admin.js'
import type { ConfigDocument } from '../../core/entities.js'
import type { PluginRegistry } from '../../core/plugin.js'
import type { ParsedBody } from '../body.js'
import type { ControlPlane } from '../control-plane.js'
import { ApiError } from '../errors.js'
import { live } from '../expiry.js'
import type { AdminHandler } from '../http.js'
import { type Kind, present, SPECS } from '../kinds.js'
import type { OpResult, WriteEnv } from '../ops.js'
import type { Router } from '../router.js'
import { inferForm } from '../schema-walk.js'

/** What every Admin API handler works with. */
export interface AdminContext {
  cp: ControlPlane
  plugins: PluginRegistry
  env: WriteEnv
  router: Router<AdminHandler>
}

export const ok = (body: unknown): AdminResponse => ({ status: 200, body })

/** The document as the Admin API shows it: expired credentials are gone (expiry.ts). */
export const current = (ctx: AdminContext): ConfigDocument => live(ctx.cp.document, ctx.env.now())

/** A change through the control plane, made to the document without its expired credentials. */
export const write = (ctx: AdminContext, change: (doc: ConfigDocument) => OpResult): Promise<OpResult> =>
  ctx.cp.write((doc) => change(live(doc, ctx.env.now())))
export const created = (body: unknown): AdminResponse => ({ status: 201, body })
export const noContent = (): AdminResponse => ({ status: 204 })

/**
 * A body as the write path wants it: JSON as sent; form fields inferred by the kind's schema
 * (a foreign record by its kind's, a plugin's `config` by that plugin's schema, found by the
 * body's `name` or `pluginName`).
 *
 * @example
 *   inputFor(ctx, 'plugins', call.body) // form 'config.minute=5' → { config: { minute: 5 } }
 */
export function inputFor(
  ctx: AdminContext,
  kind: Kind,
  body: ParsedBody,
  pluginName?: string,
): Record<string, unknown> {
  if (body.kind !== 'form') return body.value
  const value = inferForm(SPECS[kind].schema, body.value) as Record<string, unknown>
  // a foreign record (`service.name=`, `service.port=80`) is read by its own kind's schema
  for (const [field, target] of Object.entries(SPECS[kind].refs)) {
    const given = body.value[field]
    if (given !== null && typeof given === 'object' && !Array.isArray(given))
      value[field] = inferForm(SPECS[target].schema, given)
  }
  if (kind === 'plugins' && value.config !== null && typeof value.config === 'object') {
    const name = typeof value.name === 'string' ? value.name : pluginName
    const schema = name === undefined ? undefined : ctx.plugins.get(name)?.schema
    value.config = inferForm(schema, body.value.config)
  }
  return value
}

/**
 * Runs a change through the control plane and answers with the entity written (`status`) or
 * 204 for deletes; a refused change answers its error and changes nothing.
 */
export async function runWrite(
  ctx: AdminContext,
  kind: Kind,
  status: number,
  change: (doc: ConfigDocument) => OpResult,
): Promise<AdminResponse | ApiError> {
  const result = await write(ctx, change)
  if (!result.ok) return result.error
  if (result.entity === undefined) return { status: 204 }
  return { status, body: present(kind, result.entity) }
}

export { ApiError }
