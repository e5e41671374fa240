import { randomUUID } from 'node:crypto'
import { isUuid } from '../../config/ids.js'
import { checkSniName } from '../../config/index.js'
import type { ConfigDocument } from '../../core/entities.js'
import { findEntity } from '../constraints.js'
import { ApiError, isApiError, notFound, schemaViolation } from '../errors.js'
import type { AdminCall, AdminHandler } from '../http.js'
import { listOf, present } from '../kinds.js'
import { createEntity, deleteEntity, type OpResult, updateEntity, upsertEntity } from '../ops.js'
import { paginate } from '../paginate.js'
import { type AdminContext, inputFor, noContent, ok } from './context.js'
import { mountKind } from './entities.js'

type Entity = Record<string, unknown>

/**
 * Kong's `/certificates`: the entity plus the transient `snis` list (names of the SNI entities
 * that point at it), written in the same change as the certificate so a refused name changes
 * nothing. The certificate is addressed by id or by one of its SNI names. Kong returns `key`
 * (and `key_alt`) as stored, so the Admin API does too; nothing here logs a body.
 */

/** The names pointing at a certificate, sorted as Kong lists them. */
function namesOf(doc: ConfigDocument, id: string): string[] {
  return doc.snis
    .filter((s) => s.certificate.id === id)
    .map((s) => s.name)
    .sort()
}

const show = (doc: ConfigDocument, cert: Entity) => ({
  ...present('certificates', cert),
  snis: namesOf(doc, cert.id as string),
})

/** `snis` as sent: JSON list, form `snis[]=`/`snis[1]=` list, a single form value, or null (none). */
function requestedSnis(value: unknown): string[] | null | undefined | ApiError {
  if (value === undefined) return undefined
  if (value === null || value === '') return null
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined
  if (list === undefined || list.some((n) => typeof n !== 'string'))
    return schemaViolation([{ path: 'snis', message: 'expected an array' }])
  const names = (list as string[]).map((n) => n.toLowerCase())
  const seen = new Set<string>()
  for (const [i, name] of names.entries()) {
    const bad = checkSniName(name)
    if (bad !== undefined) return schemaViolation([{ path: `snis[${i}]`, message: bad }])
    if (seen.has(name)) return schemaViolation([{ path: 'snis', message: `${name} is duplicated` }])
    seen.add(name)
  }
  return names
}

/** Replaces the certificate's SNIs with `names` (refusing a name another certificate holds). */
function syncSnis(result: OpResult, names: string[] | null | undefined, ctx: AdminContext): OpResult {
  if (!result.ok || names === undefined || result.entity === undefined) return result
  const certId = result.entity.id as string
  let doc = result.doc
  for (const name of names ?? []) {
    const other = doc.snis.find((s) => s.name === name && s.certificate.id !== certId)
    if (other !== undefined)
      return {
        ok: false,
        error: schemaViolation([
          {
            path: 'snis',
            message: `${name} already associated with existing certificate '${other.certificate.id}'`,
          },
        ]),
      }
  }
  const wanted = new Set(names ?? [])
  for (const sni of doc.snis.filter((s) => s.certificate.id === certId && !wanted.has(s.name))) {
    const removed = deleteEntity(doc, 'snis', sni.id, ctx.env)
    if (!removed.ok) return removed
    doc = removed.doc
  }
  const have = new Set(namesOf(doc, certId))
  for (const name of wanted) {
    if (have.has(name)) continue
    const added = createEntity(doc, 'snis', { name, certificate: { id: certId } }, ctx.env)
    if (!added.ok) return added
    doc = added.doc
  }
  return { ok: true, doc, entity: listOf(doc, 'certificates').find((e) => e.id === certId) }
}

/** The certificate a URL names: by id, or through one of its SNIs (see `findEntity`). */
const byKey = (doc: ConfigDocument, key: string): Entity | undefined => findEntity(doc, 'certificates', key)

async function write(
  ctx: AdminContext,
  status: number,
  change: (doc: ConfigDocument) => OpResult,
): Promise<{ status: number; body: unknown } | ApiError> {
  const result = await ctx.cp.write(change)
  if (!result.ok) return result.error
  return { status, body: show(ctx.cp.document, result.entity as Entity) }
}

function split(
  ctx: AdminContext,
  call: AdminCall,
): { body: Entity; names: string[] | null | undefined } | ApiError {
  const { snis, ...rest } = call.body.value
  const names = requestedSnis(snis)
  if (isApiError(names)) return names
  const body = inputFor(ctx, 'certificates', { ...call.body, value: rest })
  return { body, names }
}

export function mountCertificates(ctx: AdminContext): void {
  const r = ctx.router
  const list: AdminHandler = (call) => {
    const doc = ctx.cp.document
    const page = paginate(listOf(doc, 'certificates'), call.query, call.path.replace(/\/+$/, ''))
    if (isApiError(page)) return page
    return ok({ ...page, data: page.data.map((e) => show(doc, e)) })
  }
  const create: AdminHandler = (call) => {
    const input = split(ctx, call)
    if (isApiError(input)) return input
    return write(ctx, 201, (doc) =>
      syncSnis(createEntity(doc, 'certificates', input.body, ctx.env), input.names, ctx),
    )
  }
  const missing = (key: string) =>
    isUuid(key) ? notFound() : new ApiError(404, { message: 'SNI not found' })
  const get: AdminHandler = (call) => {
    const key = call.params.certificate as string
    const found = byKey(ctx.cp.document, key)
    return found === undefined ? missing(key) : ok(show(ctx.cp.document, found))
  }
  const patch: AdminHandler = (call) => {
    const key = call.params.certificate as string
    const found = byKey(ctx.cp.document, key)
    if (found === undefined) return missing(key)
    const input = split(ctx, call)
    if (isApiError(input)) return input
    return write(ctx, 200, (doc) => {
      const current = listOf(doc, 'certificates').find((e) => e.id === found.id)
      if (current === undefined) return { ok: false, error: notFound() }
      return syncSnis(updateEntity(doc, 'certificates', current, input.body, ctx.env), input.names, ctx)
    })
  }
  const put: AdminHandler = (call) => {
    const key = call.params.certificate as string
    const input = split(ctx, call)
    if (isApiError(input)) return input
    // Kong: a PUT without `snis` leaves the certificate with none; a name in the URL is kept
    let names = input.names ?? []
    const byName = isUuid(key) ? undefined : String(key).toLowerCase()
    if (byName !== undefined && !names.includes(byName)) names = [...names, byName]
    return write(ctx, 200, (doc) => {
      const existing = byKey(doc, key)
      const id = (existing?.id as string | undefined) ?? (isUuid(key) ? key : randomUUID())
      return syncSnis(upsertEntity(doc, 'certificates', id, existing, input.body, ctx.env), names, ctx)
    })
  }
  const remove: AdminHandler = async (call) => {
    const found = byKey(ctx.cp.document, call.params.certificate as string)
    if (found === undefined) return noContent()
    const result = await ctx.cp.write((doc) => deleteEntity(doc, 'certificates', found.id as string, ctx.env))
    return result.ok ? noContent() : result.error
  }
  r.add('GET', '/certificates', list)
  r.add('POST', '/certificates', create)
  r.add('GET', '/certificates/:certificate', get)
  r.add('PATCH', '/certificates/:certificate', patch)
  r.add('PUT', '/certificates/:certificate', put)
  r.add('DELETE', '/certificates/:certificate', remove)
  mountKind(ctx, 'snis', '/snis', 'sni')
  mountKind(ctx, 'snis', '/certificates/:certificate/snis', 'sni', {
    kind: 'certificates',
    param: 'certificate',
    field: 'certificate',
  })
  mountKind(ctx, 'ca_certificates', '/ca_certificates', 'ca_certificate')
}
