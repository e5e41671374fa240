import { hash, timingSafeEqual } from 'node:crypto'

/** Length of every digest compared here (SHA-256), whatever the length of the secret. */
export const DIGEST_BYTES = 32

/**
 * SHA-256 of a secret: a fixed-length stand-in that can be looked up in a Map and compared in
 * constant time without revealing the secret's length.
 *
 * @example
 *   secretDigest('alice-key').length // → 32
 */
export function secretDigest(secret: string | Buffer): Buffer {
  return hash('sha256', secret, 'buffer')
}

/** The comparison {@link safeEqual} runs: `crypto.timingSafeEqual` unless a test observes it. */
export type Comparator = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => boolean

/**
 * Constant-time equality of two secrets (DESIGN §5). Both sides are digested first, so
 * `timingSafeEqual` always compares two 32-byte buffers: it never throws on a length
 * mismatch, and the time taken says nothing about where the inputs differ or how long the
 * expected one is.
 *
 * @example
 *   safeEqual(given, stored) // → true only for identical strings
 */
export function safeEqual(
  a: string | Buffer,
  b: string | Buffer,
  compare: Comparator = timingSafeEqual,
): boolean {
  return compare(secretDigest(a), secretDigest(b))
}

/**
 * Secrets indexed by their digest: a lookup hashes the presented secret once, finds the entry
 * by digest (the Map never sees the secret, and a miss costs the same whatever the input), then
 * confirms with `timingSafeEqual` on the two digests.
 *
 * @example
 *   const index = new SecretIndex<Credential>()
 *   index.add(credential.key, credential)
 *   index.find(presentedKey) // → the credential, or undefined
 */
export class SecretIndex<T> {
  readonly #entries = new Map<string, { digest: Buffer; value: T }>()

  constructor(readonly compare: Comparator = timingSafeEqual) {}

  get size(): number {
    return this.#entries.size
  }

  add(secret: string, value: T): void {
    const digest = secretDigest(secret)
    this.#entries.set(digest.toString('latin1'), { digest, value })
  }

  find(secret: string): T | undefined {
    // the digest as a 32-char latin1 string is the cheapest form to hash and look up; the
    // Buffer for the constant-time confirmation is made only on a hit
    const d = hash('sha256', secret, 'binary')
    const e = this.#entries.get(d)
    return e !== undefined && this.compare(Buffer.from(d, 'latin1'), e.digest) ? e.value : undefined
  }
}
