import { createPublicKey } from 'node:crypto'
import type { JwtAlgorithm } from '../../core/entities.js'
import type { PluginEnv } from '../../core/plugin.js'
import { consumersOf, Identity } from '../kit/auth/identity.js'
import { hmacVerifier, publicKeyVerifier, type Verifier } from './algorithms.js'
import { JWKS_DEFAULTS, type JwksOptions, JwksSource } from './jwks.js'

/** A jwt_secret ready to verify with: its key imported once, its algorithm pinned. */
export interface JwtCredential {
  readonly id: string
  readonly key: string
  readonly algorithm: JwtAlgorithm
  /** names this secret among its consumer's secrets under `key` (tried first for a token with that kid) */
  readonly kid: string | undefined
  /** null when the consumer it belongs to is missing (Kong: "Could not find consumer") */
  readonly identity: Identity | null
  /** the fixed key's verifier; null when the credential has no usable fixed key */
  readonly verifier: Verifier | null
  /** the credential's JWKS (Portico), or null */
  readonly jwks: JwksSource | null
}

// Kong's base64_decode of a secret: standard or url alphabet, padding optional
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/

function decodeSecret(secret: string): Buffer | undefined {
  if (!BASE64.test(secret) || secret.replace(/=+$/, '').length % 4 === 1) return undefined
  const buf = Buffer.from(secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  return buf.length > 0 ? buf : undefined
}

function fixedVerifier(
  algorithm: JwtAlgorithm,
  secret: string | undefined,
  publicKey: string | undefined,
  secretIsBase64: boolean,
): Verifier | null {
  if (algorithm.startsWith('HS')) {
    if (secret === undefined) return null
    const bytes = secretIsBase64 ? decodeSecret(secret) : Buffer.from(secret, 'utf8')
    return bytes === undefined ? null : hmacVerifier(algorithm, bytes)
  }
  if (publicKey === undefined) return null
  try {
    return publicKeyVerifier(algorithm, createPublicKey(publicKey)) ?? null
  } catch {
    return null
  }
}

/**
 * Every jwt_secret of the document, by `key` (the value of the token's key claim). Several
 * credentials of one consumer may share a key (rotation: any of them verifies; the config
 * refuses a key shared by two consumers). Keys are imported here, once
 * per config load; a JWKS source is shared per URL across instances and reloads.
 *
 * @example
 *   const byKey = compileCredentials(env, config.secret_is_base64)
 *   byKey.get('alice-iss')?.[0]?.algorithm // → 'HS256'
 */
export function compileCredentials(
  env: PluginEnv,
  secretIsBase64: boolean,
  jwksOptions: JwksOptions = JWKS_DEFAULTS,
): Map<string, JwtCredential[]> {
  const consumers = consumersOf(env.document)
  const out = new Map<string, JwtCredential[]>()
  for (const s of env.document.jwt_secrets) {
    const consumer = consumers.byId.get(s.consumer.id)
    const uri = s.jwks_uri
    const jwks =
      uri === undefined || s.algorithm.startsWith('HS')
        ? null
        : env.services.shared(`jwt:jwks:${uri}`, () => new JwksSource(uri, jwksOptions, env.log))
    if (jwks !== null && !jwks.loaded) void jwks.refresh('load')
    const cred: JwtCredential = {
      id: s.id,
      key: s.key,
      algorithm: s.algorithm,
      kid: s.kid,
      identity: consumer === undefined ? null : new Identity(consumer, { id: s.id, identifier: s.key }),
      verifier: fixedVerifier(s.algorithm, s.secret, s.rsa_public_key, secretIsBase64),
      jwks,
    }
    if (cred.verifier === null && jwks === null) {
      env.log.warn({ credential: s.id, key: s.key }, 'jwt: credential has no usable key or secret')
    }
    const list = out.get(s.key)
    if (list === undefined) out.set(s.key, [cred])
    else list.push(cred)
  }
  return out
}
