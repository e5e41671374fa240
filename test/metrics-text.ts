/**
 * Reads Prometheus' text exposition for tests: every sample as name + labels + value, and a
 * lookup by exact label set.
 */
export interface ParsedSample {
  name: string
  labels: Record<string, string>
  value: number
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

export function parseExposition(text: string): ParsedSample[] {
  const out: ParsedSample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = LINE.exec(line)
    if (m === null) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(LABEL))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c))
    out.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return out
}

/** Samples of one metric whose labels include all of `labels`. */
export function samples(
  all: ParsedSample[],
  name: string,
  labels: Record<string, string> = {},
): ParsedSample[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

/** The value of the one sample with exactly these labels; undefined when absent. */
export function value(
  all: ParsedSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = Object.keys(labels).length
  const found = all.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === want &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`)
  return found[0]?.value
}
