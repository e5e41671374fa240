import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { KeyPair } from './tls.js'

const run = promisify(execFile)

/** A setting that is PEM text itself, or the path of a PEM file (Kong's `ssl_cert` takes both). */
async function pem(value: string, what: string): Promise<string> {
  if (value.trimStart().startsWith('-----BEGIN')) return value
  try {
    return await readFile(value, 'utf8')
  } catch (err) {
    // the path is named, never the content
    throw new Error(`${what}: cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
}

/**
 * The TLS listeners' default certificate: `PORTICO_SSL_CERT` / `PORTICO_SSL_CERT_KEY`, or, as
 * Kong does when `ssl_cert` is unset, a self-signed ECDSA certificate for `localhost` made at
 * start (OpenSSL's command line: node:crypto makes keys, not certificates). It answers clients
 * that send no server name or one no SNI entity matches.
 */
export async function defaultKeyPair(cert: string | undefined, key: string | undefined): Promise<KeyPair> {
  if (cert !== undefined || key !== undefined) {
    if (cert === undefined || key === undefined)
      throw new Error('ssl cert: PORTICO_SSL_CERT and PORTICO_SSL_CERT_KEY go together')
    return { cert: await pem(cert, 'ssl cert'), key: await pem(key, 'ssl cert key') }
  }
  const dir = await mkdtemp(join(tmpdir(), 'portico-cert-'))
  try {
    const keyFile = join(dir, 'key.pem')
    const certFile = join(dir, 'cert.pem')
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '3650',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
    ])
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
