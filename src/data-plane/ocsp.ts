import { execFile } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** How long a response is kept when the responder gives no Next Update. */
const DEFAULT_TTL_MS = 3_600_000
/**
 * The retry after a failed fetch: 5 s, doubling up to 5 minutes while failures go on (a
 * responder that timed out once under load is asked again soon; one that is down is not asked
 * on every handshake).
 */
const FIRST_RETRY_MS = 5_000
const MAX_RETRY_MS = 300_000
const FETCH_TIMEOUT_S = 5

interface Entry {
  response: Buffer | null
  /** when the entry must be fetched again (ms since the epoch) */
  refreshAt: number
  fetching: boolean
  /** the wait after the next failure */
  retryMs: number
}

/** The OCSP responder a certificate names in its Authority Information Access, if any. */
export function ocspUrl(der: Buffer): string | undefined {
  try {
    const info = new X509Certificate(der).infoAccess ?? ''
    const m = /OCSP - URI:(\S+)/.exec(info)
    return m?.[1]
  } catch {
    return undefined
  }
}

/**
 * DER as PEM, 64 characters a line. No empty line when the base64 fills its last line exactly:
 * OpenSSL 3 cannot read a certificate with one ("Could not read certificate"), which made the
 * fetch fail for every certificate whose DER length is a multiple of 48 bytes.
 */
export const toPem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`

/**
 * OCSP stapling for the TLS listeners (nginx's `ssl_stapling on`): when a client asks for the
 * certificate status and the served certificate names a responder, the cached response is
 * stapled. Responses are fetched in the background, off the handshake (the first handshakes of
 * a certificate go without a staple, as with nginx), with OpenSSL's `ocsp` command, and kept
 * until the responder's Next Update (or an hour); a failed fetch is retried after 5 s, then
 * 10 s, 20 s, … up to 5 minutes while it keeps failing.
 * A certificate without a responder, or whose issuer is not in its chain, is never looked up.
 */
export class OcspStapler {
  readonly #cache = new Map<string, Entry>()
  fetches = 0

  /** tls.Server's 'OCSPRequest' listener. */
  readonly handle = (
    certificate: Buffer,
    issuer: Buffer | null,
    callback: (err: Error | null, response?: Buffer) => void,
  ): void => {
    const key = createHash('sha256').update(certificate).digest('base64')
    let entry = this.#cache.get(key)
    if (entry === undefined) {
      const url = issuer === null ? undefined : ocspUrl(certificate)
      entry = {
        response: null,
        refreshAt: url === undefined ? Number.POSITIVE_INFINITY : 0,
        fetching: false,
        retryMs: FIRST_RETRY_MS,
      }
      this.#cache.set(key, entry)
    }
    if (!entry.fetching && entry.refreshAt <= Date.now() && issuer !== null)
      this.#fetch(entry, certificate, issuer)
    callback(null, entry.response ?? undefined)
  }

  #fetch(entry: Entry, certificate: Buffer, issuer: Buffer): void {
    entry.fetching = true
    this.fetches++
    fetchOcsp(certificate, issuer)
      .then(
        ({ response, nextUpdate }) => {
          entry.response = response
          entry.refreshAt = Math.min(nextUpdate ?? Date.now() + DEFAULT_TTL_MS, Date.now() + DEFAULT_TTL_MS)
          entry.retryMs = FIRST_RETRY_MS
        },
        () => {
          // a response already held is kept (still stapled) until the next try
          entry.refreshAt = Date.now() + entry.retryMs
          entry.retryMs = Math.min(entry.retryMs * 2, MAX_RETRY_MS)
        },
      )
      .finally(() => {
        entry.fetching = false
      })
  }
}

/** One OCSP request through `openssl ocsp`: the DER response and its Next Update. */
async function fetchOcsp(
  certificate: Buffer,
  issuer: Buffer,
): Promise<{ response: Buffer; nextUpdate?: number }> {
  const url = ocspUrl(certificate)
  if (url === undefined) throw new Error('no OCSP responder')
  const dir = await mkdtemp(join(tmpdir(), 'portico-ocsp-'))
  try {
    await writeFile(join(dir, 'cert.pem'), toPem(certificate))
    await writeFile(join(dir, 'issuer.pem'), toPem(issuer))
    const { stdout } = await run(
      'openssl',
      [
        'ocsp',
        '-issuer',
        join(dir, 'issuer.pem'),
        '-cert',
        join(dir, 'cert.pem'),
        '-url',
        url,
        '-respout',
        join(dir, 'resp.der'),
        '-noverify',
        '-no_nonce',
        '-timeout',
        String(FETCH_TIMEOUT_S),
      ],
      { timeout: (FETCH_TIMEOUT_S + 1) * 1000 },
    )
    if (!/: good\b/.test(stdout)) throw new Error('certificate status is not good')
    const next = /Next Update: (.+)/.exec(stdout)?.[1]
    const nextUpdate = next === undefined ? undefined : Date.parse(next)
    return {
      response: await readFile(join(dir, 'resp.der')),
      nextUpdate: nextUpdate === undefined || Number.isNaN(nextUpdate) ? undefined : nextUpdate,
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
