/** The Admin API from the browser: same origin, the admin token kept for this tab only. */

const KEY = 'portico-admin-token'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { message?: string; fields?: Record<string, unknown> } & Record<string, unknown>,
  ) {
    super(body.message ?? `HTTP ${status}`)
  }
}

type Listener = () => void
const unauthorized = new Set<Listener>()

/** called when the Admin API answers 401: the app asks for the token */
export function onUnauthorized(l: Listener): () => void {
  unauthorized.add(l)
  return () => unauthorized.delete(l)
}

export function setToken(token: string): void {
  if (token === '') sessionStorage.removeItem(KEY)
  else sessionStorage.setItem(KEY, token)
}

/**
 * One Admin API call. JSON in and out; a string body is sent as text (declarative YAML).
 *
 * @example
 *   const services = await api<{ data: Entity[] }>('GET', '/services')
 */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {}
  const token = sessionStorage.getItem(KEY)
  if (token) headers.authorization = `Bearer ${token}`
  let payload: string | undefined
  if (typeof body === 'string') {
    headers['content-type'] = 'application/yaml'
    payload = body
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const res = await fetch(path, { method, headers, body: payload ?? null })
  const text = await res.text()
  let parsed: unknown = text
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text)
  if (res.status === 401) for (const l of unauthorized) l()
  if (!res.ok && res.status !== 304)
    throw new ApiError(
      res.status,
      typeof parsed === 'object' && parsed !== null ? (parsed as never) : { message: text },
    )
  return parsed as T
}

export interface Entity {
  id: string
  name?: string
  [field: string]: unknown
}

/** Every page of a list endpoint. */
export async function listAll(path: string): Promise<Entity[]> {
  const out: Entity[] = []
  let next: string | null = path
  while (next !== null) {
    const page: { data: Entity[]; next: string | null } = await api('GET', next)
    out.push(...page.data)
    next = page.next
  }
  return out
}
