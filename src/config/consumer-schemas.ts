import { createPublicKey } from 'node:crypto'
import { z } from 'zod'
import { kongComments, nonEmpty, tags, timestamp, uuid, withoutNulls } from './fields.js'

/**
 * A consumer (Kong 3.x): someone who calls the APIs, known by username and/or custom_id.
 *
 * @example
 *   consumerSchema.parse({ username: 'alice' }) // → { username: 'alice' }
 */
export const consumerSchema = z.preprocess(
  withoutNulls,
  z
    .strictObject({
      id: uuid.optional(),
      username: nonEmpty.optional(),
      custom_id: nonEmpty.optional(),
      tags: tags.optional(),
      created_at: timestamp.optional(),
      updated_at: timestamp.optional(),
      ...kongComments,
    })
    .refine((c) => c.username !== undefined || c.custom_id !== undefined, {
      message: "at least one of these fields must be non-empty: 'custom_id', 'username'",
    })
    .transform(({ _comment, _ignore, updated_at: _updated, ...consumer }) => consumer),
)

/**
 * A key-auth credential. The key is required: a generated one would change on every load.
 *
 * @example
 *   keyAuthSchema.parse({ key: 'alice-key' }) // → { key: 'alice-key' }
 */
export const keyAuthSchema = z.preprocess(
  withoutNulls,
  z
    .strictObject({
      id: uuid.optional(),
      key: nonEmpty,
      ttl: z.number().int().nonnegative().optional(),
      tags: tags.optional(),
      created_at: timestamp.optional(),
      ...kongComments,
    })
    .transform(({ _comment, _ignore, ...credential }) => credential),
)

/** The algorithms a jwt credential may pin (`none` is not one of them, and never will be). */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const

// which public key type each asymmetric algorithm family verifies with
const KEY_TYPES: Record<string, readonly string[]> = {
  RS: ['rsa', 'rsa-pss'],
  PS: ['rsa', 'rsa-pss'],
  ES: ['ec'],
  Ed: ['ed25519', 'ed448'],
}

function publicKeyType(pem: string): string | undefined {
  try {
    return createPublicKey(pem).asymmetricKeyType
  } catch {
    return undefined
  }
}

/**
 * A jwt credential: `key` matches the token's `iss` (or configured) claim. One consumer may hold
 * several credentials under the same `key` (rotation: old and new secret side by side, each
 * optionally named by a `kid`); a `key` never names two consumers.
 *
 * @example
 *   jwtSecretSchema.parse({ key: 'https://auth.local', secret: 's' }) // → { …, algorithm: 'HS256' }
 */
export const jwtSecretSchema = z.preprocess(
  withoutNulls,
  z
    .strictObject({
      id: uuid.optional(),
      key: nonEmpty,
      algorithm: z.enum(JWT_ALGORITHMS).default('HS256'),
      // Portico: names this secret among the consumer's secrets under one key (rotation); a
      // token whose `kid` header matches is checked with it first
      kid: nonEmpty.optional(),
      secret: nonEmpty.optional(),
      rsa_public_key: nonEmpty.optional(),
      jwks_uri: z
        .string()
        .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'expected an http(s) URL')
        .optional(),
      tags: tags.optional(),
      created_at: timestamp.optional(),
      ...kongComments,
    })
    .superRefine((jwt, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message })
      if (jwt.algorithm.startsWith('HS')) {
        if (jwt.secret === undefined)
          issue('secret', `required field missing: ${jwt.algorithm} needs a secret`)
        return
      }
      // Kong's words: the field's own message, and its conditional check's under @entity
      const keyIssue = (message: string) => {
        issue('rsa_public_key', message)
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: "failed conditional validation given value of field 'algorithm'",
        })
      }
      if (jwt.rsa_public_key === undefined) {
        if (jwt.jwks_uri === undefined) keyIssue('required field missing')
        return
      }
      const type = publicKeyType(jwt.rsa_public_key)
      if (type === undefined) keyIssue('invalid key')
      else if (!KEY_TYPES[jwt.algorithm.slice(0, 2)]?.includes(type)) {
        keyIssue(`invalid key: a ${type} key cannot verify ${jwt.algorithm}`)
      }
    })
    .transform(({ _comment, _ignore, ...credential }) => credential),
)

/**
 * A basic-auth credential. The password is hashed by the loader (Kong's `_transform`).
 *
 * @example
 *   basicAuthSchema.parse({ username: 'alice', password: 'pw' })
 */
export const basicAuthSchema = z.preprocess(
  withoutNulls,
  z
    .strictObject({
      id: uuid.optional(),
      username: nonEmpty,
      password: nonEmpty,
      tags: tags.optional(),
      created_at: timestamp.optional(),
      ...kongComments,
    })
    .transform(({ _comment, _ignore, ...credential }) => credential),
)

/**
 * An ACL group membership.
 *
 * @example
 *   aclSchema.parse({ group: 'admins' })
 */
export const aclSchema = z.preprocess(
  withoutNulls,
  z
    .strictObject({
      id: uuid.optional(),
      group: nonEmpty,
      tags: tags.optional(),
      created_at: timestamp.optional(),
      ...kongComments,
    })
    .transform(({ _comment, _ignore, ...acl }) => acl),
)
