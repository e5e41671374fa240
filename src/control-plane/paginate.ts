import { type ApiError, invalidOffset, invalidSize } from './errors.js'

export const PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000

/** The opaque offset: where the next page starts, and the id found there (to detect shifts). */
function encodeOffset(index: number, id: string): string {
  return Buffer.from(JSON.stringify([index, id])).toString('base64url')
}

function decodeOffset(offset: string): { index: number; id: string } | string {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(offset, 'base64url').toString('utf8'))
  } catch {
    return 'bad base64 encoding'
  }
  if (!Array.isArray(value) || !Number.isInteger(value[0]) || value[0] < 0 || typeof value[1] !== 'string') {
    return 'malformed offset'
  }
  return { index: value[0] as number, id: value[1] as string }
}

/** Kong's `tags` filter: `a,b` (all of them) or `a/b` (any of them). */
function tagFilter(tags: string | null): ((e: { tags?: unknown }) => boolean) | undefined {
  if (tags === null || tags === '') return undefined
  const any = tags.includes('/')
  const wanted = tags.split(any ? '/' : ',').filter((t) => t !== '')
  return (e) => {
    const have = Array.isArray(e.tags) ? (e.tags as string[]) : []
    return any ? wanted.some((t) => have.includes(t)) : wanted.every((t) => have.includes(t))
  }
}

export interface Page<T> {
  data: T[]
  next: string | null
  offset?: string
}

/**
 * One page of a list, as Kong's Admin API pages: `size` (default 100, at most 1000), an opaque
 * `offset` token, `next` (the URL of the next page, or null), and the `tags` filter. Entities
 * keep their definition order, so pages are stable while nothing changes; a page boundary whose
 * entity was deleted meanwhile continues where that entity was.
 *
 * @example
 *   paginate(doc.services, new URLSearchParams('size=2'), '/services')
 *   // → { data: [s1, s2], offset: 'WzIsIi4uLiJd', next: '/services?offset=WzIsIi4uLiJd&size=2' }
 */
export function paginate<T extends { id: string }>(
  items: readonly T[],
  query: URLSearchParams,
  basePath: string,
): Page<T> | ApiError {
  let size = PAGE_SIZE
  const sizeArg = query.get('size')
  if (sizeArg !== null) {
    const n = Number(sizeArg)
    if (sizeArg.trim() === '' || !Number.isFinite(n)) return invalidSize('size must be a number')
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
      return invalidSize(`size must be an integer between 1 and ${MAX_PAGE_SIZE}`)
    }
    size = n
  }
  const filter = tagFilter(query.get('tags'))
  const list = filter ? items.filter((e) => filter(e as { tags?: unknown })) : items
  let start = 0
  const offsetArg = query.get('offset')
  if (offsetArg !== null && offsetArg !== '') {
    const decoded = decodeOffset(offsetArg)
    if (typeof decoded === 'string') return invalidOffset(offsetArg, decoded)
    const found = list.findIndex((e) => e.id === decoded.id)
    start = found >= 0 ? found : Math.min(decoded.index, list.length)
  }
  const data = list.slice(start, start + size)
  const following = list[start + size]
  if (following === undefined) return { data, next: null }
  const offset = encodeOffset(start + size, following.id)
  const extra = `${sizeArg !== null ? `&size=${size}` : ''}${query.get('tags') ? `&tags=${encodeURIComponent(query.get('tags') as string)}` : ''}`
  return { data, offset, next: `${basePath}?offset=${offset}${extra}` }
}
