/**
 * Reads a `multipart/form-data` body into name/value pairs (file parts as their UTF-8 text), as
 * Kong's Admin API accepts it: `curl -F config=@kong.yml /config` and
 * `curl -F rsa_public_key=@key.pem /consumers/x/jwt` are in Kong's own documentation. Returns
 * null when the body is not well-formed multipart for the given content type.
 *
 * @example
 *   parseMultipart(body, 'multipart/form-data; boundary=xyz') // → [['algorithm', 'RS256'], …]
 */
export function parseMultipart(body: Buffer, contentType: string): Array<[string, string]> | null {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  const boundary = (m?.[1] ?? m?.[2])?.trim()
  if (boundary === undefined || boundary === '') return null
  const delimiter = Buffer.from(`--${boundary}`)
  const pairs: Array<[string, string]> = []
  let pos = body.indexOf(delimiter)
  if (pos < 0) return null
  for (;;) {
    pos += delimiter.length
    // `--` after a delimiter closes the body
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return pairs
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2
    else return null
    const headEnd = body.indexOf('\r\n\r\n', pos)
    if (headEnd < 0) return null
    const head = body.subarray(pos, headEnd).toString('latin1')
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd + 4)
    if (next < 0) return null
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(head)?.[1]
    if (name === undefined) return null
    pairs.push([name, body.subarray(headEnd + 4, next).toString('utf8')])
    pos = next + 2
  }
}
