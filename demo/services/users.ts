/**
 * A small in-memory REST resource, run twice (`users-1`, `users-2`) behind one gateway
 * upstream. Every response names its instance (header `X-Instance` and field `instance`), so
 * load balancing is visible from curl. Each instance keeps its own store, seeded identically:
 * reads look the same on both, a write lands on whichever instance the balancer picked.
 */
import { readObject } from './body.js'
import { HttpError, sendJson, serve } from './http.js'
import type { DemoServer, ListenOptions } from './types.js'

/**
 * One user record.
 *
 * @example
 *   const u: User = { id: '1', name: 'Alice', email: 'alice@example.com' }
 */
export interface User {
  id: string
  name: string
  email: string | null
}

/**
 * Options of {@link startUsers}.
 *
 * @example
 *   const opts: UsersOptions = { name: 'users-2', port: 9104 }
 */
export interface UsersOptions extends ListenOptions {
  /** instance name, sent as `X-Instance` and `instance` (default `users`) */
  name?: string
}

const SEED: readonly User[] = [
  { id: '1', name: 'Alice', email: 'alice@example.com' },
  { id: '2', name: 'Bob', email: 'bob@example.com' },
  { id: '3', name: 'Carol', email: 'carol@example.com' },
]

/** Validates a create/replace body: `name` required, `email` optional; unknown fields ignored. */
function userFields(body: Record<string, unknown>): Omit<User, 'id'> {
  const { name, email } = body
  if (typeof name !== 'string' || name.trim() === '') {
    throw new HttpError(400, 'invalid_user', '"name" is required and must be a non-empty string')
  }
  if (email !== undefined && email !== null && typeof email !== 'string') {
    throw new HttpError(400, 'invalid_user', '"email" must be a string')
  }
  return { name: name.trim(), email: typeof email === 'string' ? email : null }
}

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new HttpError(400, 'bad_request', 'malformed percent-encoding in user id')
  }
}

/**
 * Starts a users service with routes `GET|POST /users` and `GET|PUT|DELETE /users/:id`. It
 * only knows `/users`: the gateway strips its `/api` prefix before forwarding.
 *
 * @example
 *   const u1 = await startUsers({ name: 'users-1' })
 *   const r = await fetch(`${u1.url}/users/1`)
 *   // → 200, X-Instance: users-1, {"id":"1","name":"Alice","email":"alice@example.com","instance":"users-1"}
 */
export function startUsers(opts: UsersOptions = {}): Promise<DemoServer> {
  const instance = opts.name ?? 'users'
  const users = new Map(SEED.map((u) => [u.id, { ...u }]))
  let nextId = SEED.length + 1

  return serve(instance, opts, async (req, res, url) => {
    const match = /^\/users(?:\/([^/]+))?\/?$/.exec(url.pathname)
    if (!match) throw new HttpError(404, 'not_found', `no route for ${url.pathname}`)
    const id = match[1] === undefined ? undefined : decodeId(match[1])
    const method = req.method === 'HEAD' ? 'GET' : req.method

    if (id === undefined) {
      if (method === 'GET') {
        const data = [...users.values()]
        return sendJson(res, 200, { instance, data, total: data.length })
      }
      if (method === 'POST') {
        const user: User = { id: String(nextId++), ...userFields(await readObject(req)) }
        users.set(user.id, user)
        return sendJson(res, 201, { ...user, instance }, { location: `/users/${user.id}` })
      }
      throw new HttpError(405, 'method_not_allowed', 'use GET or POST /users', { allow: 'GET, HEAD, POST' })
    }

    const existing = users.get(id)
    if (method === 'GET' || method === 'DELETE') {
      if (!existing) throw new HttpError(404, 'not_found', `no user ${id} on ${instance}`)
      if (method === 'GET') return sendJson(res, 200, { ...existing, instance })
      users.delete(id)
      res.writeHead(204).end()
      return
    }
    if (method === 'PUT') {
      const fields = userFields(await readObject(req))
      if (!existing) throw new HttpError(404, 'not_found', `no user ${id} on ${instance}`)
      const user: User = { id, ...fields }
      users.set(id, user)
      return sendJson(res, 200, { ...user, instance })
    }
    throw new HttpError(405, 'method_not_allowed', `use GET, PUT or DELETE /users/${id}`, {
      allow: 'GET, HEAD, PUT, DELETE',
    })
  })
}
