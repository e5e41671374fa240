import { randomUUID } from 'node:crypto'
import type { Ref } from '../../core/entities.js'
import { findEntity } from '../constraints.js'
import { badRequest, isApiError, methodNotAllowed, notFound } from '../errors.js'
import type { AdminCall, AdminHandler } from '../http.js'
import { CREDENTIAL_PATHS, type Kind, listOf, present, SPECS } from '../kinds.js'
import { createEntity, deleteEntity, updateEntity, upsertEntity } from '../ops.js'
import { paginate } from '../paginate.js'
import { type AdminContext, current, inputFor, noContent, ok, runWrite, write } from './context.js'

type Entity = Record<string, unknown>

/** A collection nested under a parent entity: `/services/{service}/routes`. */
interface Parent {
  kind: Kind
  /** the URL param naming the parent */
  param: string
  /** the child's foreign key to the parent */
  field: string
}

const pluginName = (e: Entity | undefined) => (typeof e?.name === 'string' ? e.name : undefined)

function parentOf(ctx: AdminContext, call: AdminCall, parent: Parent | undefined): Entity | null | undefined {
  if (parent === undefined) return null
  return findEntity(current(ctx), parent.kind, call.params[parent.param] as string)
}

function childOf(
  ctx: AdminContext,
  kind: Kind,
  key: string,
  parent: Parent | undefined,
  owner: Entity | null,
) {
  const scope = parent && owner ? { field: parent.field, id: owner.id as string } : undefined
  return findEntity(current(ctx), kind, key, scope)
}

/** The list of a kind, optionally of one parent, with Kong's filters (`custom_id` for consumers). */
function collection(
  kind: Kind,
  call: AdminCall,
  all: Array<Entity & { id: string }>,
  owner: Entity | null,
  parent?: Parent,
): Array<Entity & { id: string }> {
  let items =
    owner === null ? all : all.filter((e) => (e[parent?.field ?? ''] as Ref | undefined)?.id === owner.id)
  const customId = call.query.get('custom_id')
  if (kind === 'consumers' && customId !== null) items = items.filter((e) => e.custom_id === customId)
  return items
}

/**
 * Mounts Kong's generic endpoints for one kind at `base` (`/services`, or
 * `/services/:service/routes` with a parent): list, create, and get/put/patch/delete by id or
 * endpoint key.
 */
export function mountKind(ctx: AdminContext, kind: Kind, base: string, param: string, parent?: Parent): void {
  const r = ctx.router
  const list: AdminHandler = (call) => {
    const owner = parentOf(ctx, call, parent)
    if (owner === undefined) return notFound()
    // Kong: `?custom_id=` and a bare `?custom_id` are refused, not "every consumer"
    if (kind === 'consumers' && call.query.get('custom_id') === '') {
      return badRequest('custom_id must be an unempty string')
    }
    const items = collection(kind, call, listOf(current(ctx), kind), owner, parent)
    const page = paginate(items, call.query, call.path.replace(/\/+$/, ''))
    if (isApiError(page)) return page
    return ok({ ...page, data: page.data.map((e) => present(kind, e)) })
  }
  const create: AdminHandler = (call) => {
    const owner = parentOf(ctx, call, parent)
    if (owner === undefined) return notFound()
    const body = inputFor(ctx, kind, call.body)
    const forced: Record<string, Ref> = parent && owner ? { [parent.field]: { id: owner.id as string } } : {}
    return runWrite(ctx, kind, 201, (doc) => createEntity(doc, kind, body, ctx.env, forced))
  }
  const get: AdminHandler = (call) => {
    const owner = parentOf(ctx, call, parent)
    const found =
      owner === undefined ? undefined : childOf(ctx, kind, call.params[param] as string, parent, owner)
    return found === undefined ? notFound() : ok(present(kind, found))
  }
  const patch: AdminHandler = (call) => {
    const owner = parentOf(ctx, call, parent)
    const found =
      owner === undefined ? undefined : childOf(ctx, kind, call.params[param] as string, parent, owner)
    if (found === undefined) return notFound()
    const body = inputFor(ctx, kind, call.body, pluginName(found))
    const forced: Record<string, Ref> =
      parent && owner && body[parent.field] === undefined
        ? { [parent.field]: { id: owner.id as string } }
        : {}
    return runWrite(ctx, kind, 200, (doc) => {
      const current = listOf(doc, kind).find((e) => e.id === found.id)
      if (current === undefined) return { ok: false, error: notFound() }
      return updateEntity(doc, kind, current, body, ctx.env, forced)
    })
  }
  const put: AdminHandler = (call) => {
    const owner = parentOf(ctx, call, parent)
    if (owner === undefined) return notFound()
    const key = call.params[param] as string
    const body = inputFor(ctx, kind, call.body)
    const forced: Record<string, Ref> = parent && owner ? { [parent.field]: { id: owner.id as string } } : {}
    return runWrite(ctx, kind, 200, (doc) => {
      const scope = parent && owner ? { field: parent.field, id: owner.id as string } : undefined
      const existing = findEntity(doc, kind, key, scope)
      // Kong's PUT of an existing target updates it (upstreams.lua: the weight stays, the
      // address may change); every other entity is replaced whole
      if (kind === 'targets' && existing !== undefined)
        return updateEntity(doc, kind, existing, body, ctx.env, forced)
      return upsertEntity(doc, kind, key, existing, body, ctx.env, forced)
    })
  }
  const remove: AdminHandler = async (call) => {
    const owner = parentOf(ctx, call, parent)
    if (owner === undefined) return parent === undefined ? noContent() : notFound()
    const found = childOf(ctx, kind, call.params[param] as string, parent, owner)
    // Kong: deleting what does not exist is a success (idempotent), except under a parent
    if (found === undefined) return parent === undefined ? noContent() : notFound()
    const result = await write(ctx, (doc) => deleteEntity(doc, kind, found.id as string, ctx.env))
    return result.ok ? noContent() : result.error
  }
  r.add('GET', base, list)
  r.add('POST', base, create)
  r.add('GET', `${base}/:${param}`, get)
  r.add('PATCH', `${base}/:${param}`, patch)
  r.add('PUT', `${base}/:${param}`, put)
  r.add('DELETE', `${base}/:${param}`, remove)
}

/**
 * Mounts `/{children}/{child}/{field}`: the entity a foreign key points at (`/routes/{r}/service`,
 * `/key-auths/{k}/consumer`); PATCH updates it, DELETE is refused as in Kong.
 */
export function mountForeign(
  ctx: AdminContext,
  kind: Kind,
  base: string,
  param: string,
  field: string,
): void {
  const target = SPECS[kind].refs[field] as Kind
  const resolve = (call: AdminCall): Entity | undefined => {
    const child = findEntity(current(ctx), kind, call.params[param] as string)
    const id = (child?.[field] as Ref | undefined)?.id
    return id === undefined ? undefined : listOf(current(ctx), target).find((e) => e.id === id)
  }
  ctx.router.add('GET', `${base}/:${param}/${field}`, (call) => {
    const found = resolve(call)
    return found === undefined ? notFound() : ok(present(target, found))
  })
  ctx.router.add('PATCH', `${base}/:${param}/${field}`, (call) => {
    const found = resolve(call)
    if (found === undefined) return notFound()
    const body = inputFor(ctx, target, call.body, pluginName(found))
    return runWrite(ctx, target, 200, (doc) => {
      const current = listOf(doc, target).find((e) => e.id === found.id)
      return current === undefined
        ? { ok: false, error: notFound() }
        : updateEntity(doc, target, current, body, ctx.env)
    })
  })
  // Kong's put_entity_endpoint: replaces the entity the key points at, or creates one and
  // points the key at it when it points nowhere, in one write
  ctx.router.add('PUT', `${base}/:${param}/${field}`, (call) => {
    const child = findEntity(current(ctx), kind, call.params[param] as string)
    if (child === undefined) return notFound()
    const body = inputFor(ctx, target, call.body)
    return runWrite(ctx, target, 200, (doc) => {
      const current = listOf(doc, kind).find((e) => e.id === child.id)
      if (current === undefined) return { ok: false, error: notFound() }
      const ref = (current[field] as Ref | undefined)?.id
      const existing = ref === undefined ? undefined : listOf(doc, target).find((e) => e.id === ref)
      const upserted = upsertEntity(doc, target, ref ?? randomUUID(), existing, body, ctx.env)
      if (!upserted.ok || ref !== undefined) return upserted
      const owner = listOf(upserted.doc, kind).find((e) => e.id === child.id) as Entity
      const linked = updateEntity(upserted.doc, kind, owner, {}, ctx.env, {
        [field]: { id: upserted.entity?.id as string },
      })
      return linked.ok ? { ok: true, doc: linked.doc, entity: upserted.entity } : linked
    })
  })
  ctx.router.add('DELETE', `${base}/:${param}/${field}`, (call) =>
    resolve(call) === undefined ? notFound() : methodNotAllowed(),
  )
}

/** Every entity endpoint of Kong's Admin API that Portico has. */
export function mountEntities(ctx: AdminContext): void {
  mountKind(ctx, 'services', '/services', 'service')
  mountKind(ctx, 'routes', '/routes', 'route')
  mountKind(ctx, 'consumers', '/consumers', 'consumer')
  mountKind(ctx, 'plugins', '/plugins', 'plugin')
  mountKind(ctx, 'upstreams', '/upstreams', 'upstream')
  const services = { kind: 'services', param: 'service' } as const
  const routes = { kind: 'routes', param: 'route' } as const
  const consumers = { kind: 'consumers', param: 'consumer' } as const
  const upstreams = { kind: 'upstreams', param: 'upstream' } as const
  mountKind(ctx, 'routes', '/services/:service/routes', 'route', { ...services, field: 'service' })
  mountKind(ctx, 'plugins', '/services/:service/plugins', 'plugin', { ...services, field: 'service' })
  mountKind(ctx, 'plugins', '/routes/:route/plugins', 'plugin', { ...routes, field: 'route' })
  mountKind(ctx, 'plugins', '/consumers/:consumer/plugins', 'plugin', { ...consumers, field: 'consumer' })
  mountKind(ctx, 'targets', '/upstreams/:upstream/targets', 'target', { ...upstreams, field: 'upstream' })
  mountForeign(ctx, 'routes', '/routes', 'route', 'service')
  for (const field of ['service', 'route', 'consumer'])
    mountForeign(ctx, 'plugins', '/plugins', 'plugin', field)
  for (const { kind, nested, top } of CREDENTIAL_PATHS) {
    mountKind(ctx, kind, `/consumers/:consumer/${nested}`, 'credential', { ...consumers, field: 'consumer' })
    mountKind(ctx, kind, `/${top}`, 'credential')
    mountForeign(ctx, kind, `/${top}`, 'credential', 'consumer')
  }
}
