import { createHash, randomBytes } from 'node:crypto'
import { createSecureContext, type SecureContext } from 'node:tls'
import type { ConfigDocument } from '../core/entities.js'

/**
 * TLS 1.3's three suites, then TLS 1.2 with ECDHE key exchange and AEAD ciphers only (Mozilla's
 * "intermediate" profile without the finite-field DHE suites): forward secrecy on every
 * connection, no CBC, no RSA key exchange. `PORTICO_SSL_CIPHERS` replaces it.
 */
export const DEFAULT_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':')

/** A certificate with its key (PEM), and optionally a second pair of the other key type. */
export interface KeyPair {
  cert: string
  key: string
  certAlt?: string | undefined
  keyAlt?: string | undefined
}

/** Options every server-side context gets: versions, ciphers, one set of session-ticket keys. */
export interface TlsOptions {
  ciphers: string
  /** 48 bytes; the same for every context, so a ticket survives a certificate swap and an SNI switch */
  ticketKeys: Buffer
}

export function defaultTlsOptions(ciphers = DEFAULT_CIPHERS, ticketKeys?: Buffer): TlsOptions {
  return { ciphers, ticketKeys: ticketKeys ?? randomBytes(48) }
}

/** What createSecureContext / tls.createServer take for a pair (TLS 1.2 and 1.3 only). */
export function contextOptions(pair: KeyPair, o: TlsOptions) {
  const both = pair.certAlt !== undefined && pair.keyAlt !== undefined
  return {
    cert: both ? [pair.cert, pair.certAlt as string] : pair.cert,
    key: both ? [pair.key, pair.keyAlt as string] : pair.key,
    ciphers: o.ciphers,
    minVersion: 'TLSv1.2' as const,
    maxVersion: 'TLSv1.3' as const,
    honorCipherOrder: true,
    ecdhCurve: 'X25519:prime256v1:secp384r1',
    ticketKeys: o.ticketKeys,
    sessionTimeout: 300,
  }
}

/**
 * Secure contexts by content, shared by every runtime of the node: building one parses the PEMs
 * (~1 ms for RSA), so a config change rebuilds only the certificates that changed. Like the
 * upstream pools, each compile marks what it uses and `sweep` forgets the rest.
 */
export class SecureContexts {
  readonly #byContent = new Map<string, { context: SecureContext; generation: number }>()

  constructor(readonly options: TlsOptions) {}

  get(pair: KeyPair, generation: number): SecureContext {
    const key = createHash('sha256')
      .update(`${pair.cert}\0${pair.key}\0${pair.certAlt ?? ''}\0${pair.keyAlt ?? ''}`)
      .digest('base64')
    const found = this.#byContent.get(key)
    if (found !== undefined) {
      found.generation = Math.max(found.generation, generation)
      return found.context
    }
    const context = createSecureContext(contextOptions(pair, this.options))
    this.#byContent.set(key, { context, generation })
    return context
  }

  /** Forget contexts no runtime at or after `generation` uses. */
  sweep(generation: number): void {
    for (const [key, entry] of this.#byContent) if (entry.generation < generation) this.#byContent.delete(key)
  }
}

/**
 * The certificate each server name gets, compiled with the runtime (so an Admin API change
 * reaches the next handshake on every node that applies it): an exact SNI, then `*.rest` for the
 * name's first label replaced, then `first.*` for its last label replaced (Kong's order), then
 * the node's default certificate (null: the listener's own).
 */
export class CertificateTable {
  constructor(
    readonly exact: ReadonlyMap<string, SecureContext>,
    /** `*.example.com` under `example.com` */
    readonly leftWildcards: ReadonlyMap<string, SecureContext>,
    /** `example.*` under `example` */
    readonly rightWildcards: ReadonlyMap<string, SecureContext>,
  ) {}

  static readonly EMPTY = new CertificateTable(new Map(), new Map(), new Map())

  get size(): number {
    return this.exact.size + this.leftWildcards.size + this.rightWildcards.size
  }

  /** The context for a client's server name, or null for the default certificate. */
  select(servername: string): SecureContext | null {
    if (this.size === 0) return null
    const name = servername.toLowerCase()
    const exact = this.exact.get(name)
    if (exact !== undefined) return exact
    const dot = name.indexOf('.')
    if (dot > 0) {
      const left = this.leftWildcards.get(name.slice(dot + 1))
      if (left !== undefined) return left
      const right = this.rightWildcards.get(name.slice(0, name.lastIndexOf('.')))
      if (right !== undefined) return right
    }
    return null
  }
}

/** Builds the runtime's table from the document's certificates and SNIs. */
export function compileCertificates(
  doc: ConfigDocument,
  contexts: SecureContexts | undefined,
  generation: number,
): CertificateTable {
  if (contexts === undefined || doc.snis.length === 0) return CertificateTable.EMPTY
  const byId = new Map(doc.certificates.map((c) => [c.id, c]))
  const exact = new Map<string, SecureContext>()
  const left = new Map<string, SecureContext>()
  const right = new Map<string, SecureContext>()
  for (const sni of doc.snis) {
    const c = byId.get(sni.certificate.id)
    if (c === undefined) continue
    const context = contexts.get(
      { cert: c.cert, key: c.key, certAlt: c.cert_alt ?? undefined, keyAlt: c.key_alt ?? undefined },
      generation,
    )
    const name = sni.name.toLowerCase()
    if (name.startsWith('*.')) left.set(name.slice(2), context)
    else if (name.endsWith('.*')) right.set(name.slice(0, -2), context)
    else exact.set(name, context)
  }
  return new CertificateTable(exact, left, right)
}
