/**
 * One `/metrics` for a node of workers, merged from each worker's own exposition text:
 * counters and histograms summed (a histogram's buckets, `_sum` and `_count` are counters), and
 * every other family (gauges, summaries, untyped, and the process's own `process_*`/`nodejs_*`
 * readings) labelled `worker="<slot>"`, since it is that worker's reading. The counters of a worker that is gone stay in the sum (`retire`), so a
 * restart never makes a counter go down.
 */

interface Family {
  name: string
  help: string
  type: string
}

/** One worker's exposition, parsed: families in order, samples by their full series text. */
export interface Parsed {
  families: Family[]
  /** family name → its sample lines, as `[series, value]` (series: `name{labels}`) */
  samples: Map<string, Array<[string, number]>>
}

const SUMMED_TYPES = new Set(['counter', 'histogram'])
/**
 * Summed families: counters and histograms of the node's traffic. A process's own readings
 * (`process_*`, `nodejs_*`: CPU seconds, GC) stay per worker, as the dashboard's "by worker"
 * panels read them.
 */
const isSummed = (f: Family): boolean => SUMMED_TYPES.has(f.type) && !/^(process|nodejs)_/.test(f.name)

/** The family a sample belongs to: its own name, or a histogram's/summary's/counter's base name. */
function familyOf(sample: string, known: Map<string, Family>): string {
  if (known.has(sample)) return sample
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created']) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length)
      if (known.has(base)) return base
    }
  }
  return sample
}

export function parseExposition(text: string): Parsed {
  const families = new Map<string, Family>()
  const samples = new Map<string, Array<[string, number]>>()
  const family = (name: string): Family => {
    let f = families.get(name)
    if (f === undefined) families.set(name, (f = { name, help: '', type: 'untyped' }))
    return f
  }
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7)
      const sp = rest.indexOf(' ')
      family(sp < 0 ? rest : rest.slice(0, sp)).help = sp < 0 ? '' : rest.slice(sp + 1)
      continue
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ')
      family(name!).type = type ?? 'untyped'
      continue
    }
    if (line.startsWith('#')) continue
    // the value is the last field (exposition text has no timestamps here); labels may hold spaces
    const sp = line.lastIndexOf(' ')
    const series = line.slice(0, sp)
    const value = Number(line.slice(sp + 1))
    const brace = series.indexOf('{')
    const name = brace < 0 ? series : series.slice(0, brace)
    const fam = familyOf(name, families)
    family(fam)
    let list = samples.get(fam)
    if (list === undefined) samples.set(fam, (list = []))
    list.push([series, value])
  }
  return { families: [...families.values()], samples }
}

/** `name{a="b"}` → `name{worker="3",a="b"}` */
function withWorker(series: string, slot: number): string {
  const brace = series.indexOf('{')
  if (brace < 0) return `${series}{worker="${slot}"}`
  const inner = series.slice(brace + 1, -1)
  return `${series.slice(0, brace)}{worker="${slot}"${inner === '' ? '' : `,${inner}`}}`
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(15))))

/**
 * The node's merged metrics: the live workers' latest expositions plus the counters of workers
 * that left (see {@link MetricsMerger.retire}).
 */
export class MetricsMerger {
  /** summed samples of workers gone, by family and series */
  readonly #retired = new Map<string, Map<string, number>>()
  readonly #retiredFamilies = new Map<string, Family>()

  /** A worker is gone: its last counters stay in every later sum. */
  retire(last: Parsed | undefined): void {
    if (last === undefined) return
    for (const f of last.families) {
      if (!isSummed(f)) continue
      this.#retiredFamilies.set(f.name, f)
      let m = this.#retired.get(f.name)
      if (m === undefined) this.#retired.set(f.name, (m = new Map()))
      for (const [series, value] of last.samples.get(f.name) ?? [])
        m.set(series, (m.get(series) ?? 0) + value)
    }
  }

  /**
   * Merges the workers' expositions (by slot) into one text; `countersOnly` (workers being
   * replaced) add their counters and histograms, not their gauges.
   */
  merge(
    workers: ReadonlyArray<{ slot: number; parsed: Parsed }>,
    countersOnly: readonly Parsed[] = [],
  ): string {
    const families = new Map<string, Family>()
    const summed = new Map<string, Map<string, number>>()
    const labelled = new Map<string, string[]>()
    for (const [name, f] of this.#retiredFamilies) {
      families.set(name, f)
      summed.set(name, new Map(this.#retired.get(name)))
    }
    const all = [
      ...[...workers].sort((a, b) => a.slot - b.slot),
      ...countersOnly.map((parsed) => ({ slot: 0, parsed })),
    ]
    for (const { slot, parsed } of all) {
      for (const f of parsed.families) {
        if (slot === 0 && !isSummed(f)) continue
        if (!families.has(f.name)) families.set(f.name, f)
        const list = parsed.samples.get(f.name) ?? []
        if (isSummed(f)) {
          let m = summed.get(f.name)
          if (m === undefined) summed.set(f.name, (m = new Map()))
          for (const [series, value] of list) m.set(series, (m.get(series) ?? 0) + value)
        } else {
          let out = labelled.get(f.name)
          if (out === undefined) labelled.set(f.name, (out = []))
          for (const [series, value] of list) out.push(`${withWorker(series, slot)} ${fmt(value)}`)
        }
      }
    }
    const lines: string[] = []
    for (const f of families.values()) {
      const body = isSummed(f)
        ? [...(summed.get(f.name) ?? [])].map(([series, v]) => `${series} ${fmt(v)}`)
        : (labelled.get(f.name) ?? [])
      if (body.length === 0 && f.help === '') continue
      if (f.help !== '') lines.push(`# HELP ${f.name} ${f.help}`)
      lines.push(`# TYPE ${f.name} ${f.type}`)
      lines.push(...body)
    }
    return `${lines.join('\n')}\n`
  }
}
