/** Sets a property, `__proto__` included, without touching the object's prototype. */
export function put(o: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true })
  else o[name] = value
}

/**
 * Kong's `append_value`: a string becomes a list of both, a list grows, anything else (absent, a
 * number, a bare query flag) is replaced by a one-element list.
 *
 * @example
 *   appendValue('a', 'b')     // → ['a', 'b']
 *   appendValue(['a'], 'b')   // → ['a', 'b']
 *   appendValue(undefined, 'b') // → ['b']
 */
export function appendValue<T>(current: unknown, value: T): unknown[] {
  if (typeof current === 'string') return [current, value]
  if (Array.isArray(current)) {
    current.push(value)
    return current
  }
  return [value]
}
