import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto'
import { z } from 'zod'
import { kongComments, tags, timestamp, uuid } from './fields.js'

// Kong's certificate entities (certificates, snis, ca_certificates) with Kong's checks and
// words. PEM parsing runs once per write or load (node:crypto), never per handshake.

function x509(pem: string): X509Certificate | string {
  try {
    return new X509Certificate(pem)
  } catch (err) {
    return `invalid certificate: ${(err as Error).message}`
  }
}

function privateKey(pem: string): KeyObject | string {
  try {
    return createPrivateKey(pem)
  } catch (err) {
    return `invalid key: ${(err as Error).message}`
  }
}

const certificatePem = z.string().superRefine((value, ctx) => {
  const parsed = x509(value)
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed })
})

const keyPem = z.string().superRefine((value, ctx) => {
  const parsed = privateKey(value)
  // the key's own text never goes into the message: an error body or a log would show it
  if (typeof parsed === 'string')
    ctx.addIssue({ code: 'custom', message: 'invalid key: not a PEM private key' })
})

const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' })

/** The certificate's public key is the key's (Kong compares the two public PEMs). */
function matches(certPem: string, keyPemText: string): boolean | undefined {
  const cert = x509(certPem)
  const key = privateKey(keyPemText)
  if (typeof cert === 'string' || typeof key === 'string') return undefined
  return spki(cert.publicKey).equals(spki(createPublicKey(key)))
}

/** `certificates`: a pair, and optionally a second pair of the other key type (RSA and ECDSA). */
export const certificateSchema = z
  .strictObject({
    id: uuid.optional(),
    cert: certificatePem,
    key: keyPem,
    cert_alt: certificatePem.optional(),
    key_alt: keyPem.optional(),
    tags: tags.optional(),
    created_at: timestamp.optional(),
    updated_at: timestamp.optional(),
    ...kongComments,
  })
  .superRefine((c, ctx) => {
    if ((c.cert_alt === undefined) !== (c.key_alt === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: "all or none of these fields must be set: 'cert_alt', 'key_alt'",
      })
      return
    }
    if (matches(c.cert, c.key) === false) {
      ctx.addIssue({ code: 'custom', path: [], message: 'certificate does not match key' })
    }
    if (c.cert_alt === undefined || c.key_alt === undefined) return
    if (matches(c.cert_alt, c.key_alt) === false) {
      ctx.addIssue({ code: 'custom', path: [], message: 'alternative certificate does not match key' })
    }
    const a = x509(c.cert)
    const b = x509(c.cert_alt)
    if (
      typeof a !== 'string' &&
      typeof b !== 'string' &&
      a.publicKey.asymmetricKeyType === b.publicKey.asymmetricKeyType
    ) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          'certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), the provided certificates were both of the same type',
      })
    }
  })
  .transform(({ _comment, _ignore, ...c }) => c)

/**
 * Kong's `wildcard_host`: a host name with at most one `*`, as the whole leftmost or rightmost
 * label (`*.example.com`, `example.*`).
 */
export function checkSniName(value: string): string | undefined {
  const first = value.indexOf('*')
  if (first !== -1) {
    if (first !== 0 && first !== value.length - 1) return 'wildcard must be leftmost or rightmost character'
    if (value.indexOf('*', first + 1) !== -1) return 'only one wildcard must be specified'
    if (first === 0 ? !value.startsWith('*.') : !value.endsWith('.*'))
      return 'wildcard must be leftmost or rightmost character'
  }
  const plain = value.replace('*', 'wildcard')
  if (
    !/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
      plain,
    )
  )
    return `invalid value: ${value}`
  return undefined
}

export const sniName = z.string().superRefine((value, ctx) => {
  const message = checkSniName(value)
  if (message !== undefined) ctx.addIssue({ code: 'custom', message })
})

/** `snis`: a server name pointing at a certificate (the reference is resolved by the loader). */
export const sniSchema = z
  .strictObject({
    id: uuid.optional(),
    // names compare case-insensitively in TLS: stored lower-case, as the handshake looks them up
    name: sniName.transform((v) => v.toLowerCase()),
    tags: tags.optional(),
    created_at: timestamp.optional(),
    updated_at: timestamp.optional(),
    ...kongComments,
  })
  .transform(({ _comment, _ignore, ...s }) => s)

const CERT_TAG = '-----BEGIN CERTIFICATE-----'

/** `ca_certificates`: one CA certificate, not expired, with the CA basic constraint. */
export const caCertificateSchema = z
  .strictObject({
    id: uuid.optional(),
    cert: z.string().superRefine((value, ctx) => {
      const first = value.indexOf(CERT_TAG)
      if (first !== -1 && value.indexOf(CERT_TAG, first + CERT_TAG.length) !== -1) {
        ctx.addIssue({ code: 'custom', message: 'please submit only one certificate at a time' })
        return
      }
      const cert = x509(value)
      if (typeof cert === 'string') return void ctx.addIssue({ code: 'custom', message: cert })
      if (Date.parse(cert.validTo) < Date.now())
        ctx.addIssue({ code: 'custom', message: 'certificate expired, "Not After" time is in the past' })
      else if (!cert.ca)
        ctx.addIssue({
          code: 'custom',
          message: 'certificate does not appear to be a CA because it is missing the "CA" basic constraint',
        })
    }),
    // derived from cert below; accepted (and recomputed) so an export round-trips
    cert_digest: z.string().optional(),
    tags: tags.optional(),
    created_at: timestamp.optional(),
    updated_at: timestamp.optional(),
    ...kongComments,
  })
  .transform(({ _comment, _ignore, ...c }) => ({ ...c, cert_digest: certDigest(c.cert) }))

/** Kong's `cert_digest`: sha256 of the certificate's DER, hex. */
export function certDigest(pem: string): string {
  const cert = x509(pem)
  return typeof cert === 'string' ? '' : createHash('sha256').update(cert.raw).digest('hex')
}
