/**
 * Just enough of `multipart/form-data` for key-auth's `key_in_body` (Kong reads keys from
 * multipart bodies too): the text fields by name, and the body without one field for
 * `hide_credentials`, every other byte as sent.
 */

/** One part: its field name, value (text fields only) and where it sits in the body. */
interface Part {
  name: string
  value: string | undefined
  start: number
  end: number
}

/** The boundary of a multipart Content-Type, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return m?.[1] ?? m?.[2]
}

/** The parts of a multipart body; `start`/`end` span the delimiter line and the part. */
export function multipartParts(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: Part[] = []
  let at = body.indexOf(delimiter)
  while (at !== -1) {
    const next = body.indexOf(delimiter, at + delimiter.length)
    if (next === -1) break
    const chunk = body.subarray(at + delimiter.length, next).toString('latin1')
    const headEnd = chunk.indexOf('\r\n\r\n')
    if (headEnd !== -1) {
      const head = chunk.slice(0, headEnd)
      const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(head)?.[1]
      const isFile = /content-disposition:[^\r\n]*;\s*filename=/i.test(head)
      if (name !== undefined) {
        const raw = body.subarray(at + delimiter.length + headEnd + 4, next)
        const text = raw.subarray(0, raw.length >= 2 ? raw.length - 2 : raw.length).toString('utf8')
        parts.push({ name, value: isFile ? undefined : text, start: at, end: next })
      }
    }
    at = next
  }
  return parts
}

/**
 * A field as Kong sees it: its text, several values when repeated, undefined when absent.
 *
 * @example
 *   multipartField(body, 'xyz', 'apikey') // → 'kong'
 */
export function multipartField(body: Buffer, boundary: string, name: string): string | string[] | undefined {
  const values = multipartParts(body, boundary)
    .filter((p) => p.name === name && p.value !== undefined)
    .map((p) => p.value as string)
  return values.length <= 1 ? values[0] : values
}

/** The body without the parts named `name` (the rest byte for byte). */
export function withoutPart(body: Buffer, boundary: string, name: string): Buffer {
  const drop = multipartParts(body, boundary).filter((p) => p.name === name)
  if (drop.length === 0) return body
  const kept: Buffer[] = []
  let from = 0
  for (const p of drop) {
    kept.push(body.subarray(from, p.start))
    from = p.end
  }
  kept.push(body.subarray(from))
  return Buffer.concat(kept)
}
