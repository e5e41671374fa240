/**
 * A self-contained SVG chart of a scenario's runs, readable without a browser's help: latency
 * percentiles as grouped bars on the left, throughput on the right, each panel with its axis,
 * gridlines, tick labels, unit, and values on the bars; one colour per run, named in a legend.
 */

export interface ChartRun {
  name: string
  /** ms */
  latency: { avg: number; p50: number; p90: number; p95: number; p99: number }
  /** requests per second */
  rate: number
}

const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759']
const W = 980
const H = 460
const TOP = 96
const BOTTOM = 380
const FONT = 'font-family="Helvetica, Arial, sans-serif"'

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** A round axis maximum and step: 1, 2, 2.5 or 5 × 10^n, about five ticks. */
export function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.2 }
  const rough = max / 5
  const mag = 10 ** Math.floor(Math.log10(rough))
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= rough) ?? 10) * mag
  return { top: Math.ceil(max / step - 1e-9) * step, step }
}

const fmt = (v: number) =>
  !Number.isFinite(v)
    ? '–'
    : v >= 1000
      ? v.toFixed(0)
      : v >= 100
        ? v.toFixed(0)
        : v >= 10
          ? v.toFixed(1)
          : v.toFixed(2)
const tick = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toFixed(3))))

interface Panel {
  x0: number
  x1: number
  title: string
  unit: string
  groups: string[]
  /** values[group][run] */
  values: number[][]
}

function panel(p: Panel, runs: number): string {
  const out: string[] = []
  const max = Math.max(0, ...p.values.flat().filter(Number.isFinite))
  const { top, step } = niceScale(max)
  const y = (v: number) => BOTTOM - (Number.isFinite(v) ? v / top : 0) * (BOTTOM - TOP)
  out.push(
    `<text x="${(p.x0 + p.x1) / 2}" y="${TOP - 24}" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${esc(p.title)}</text>`,
  )
  for (let v = 0; v <= top + step / 2; v += step) {
    const yy = y(v).toFixed(1)
    out.push(`<line x1="${p.x0}" y1="${yy}" x2="${p.x1}" y2="${yy}" stroke="#e3e3e3"/>`)
    out.push(
      `<text x="${p.x0 - 8}" y="${yy}" dy="4" text-anchor="end" font-size="11" fill="#555" ${FONT}>${tick(v)}</text>`,
    )
  }
  out.push(`<line x1="${p.x0}" y1="${TOP}" x2="${p.x0}" y2="${BOTTOM}" stroke="#333"/>`)
  out.push(`<line x1="${p.x0}" y1="${BOTTOM}" x2="${p.x1}" y2="${BOTTOM}" stroke="#333"/>`)
  const mid = (TOP + BOTTOM) / 2
  out.push(
    `<text x="${p.x0 - 46}" y="${mid}" transform="rotate(-90 ${p.x0 - 46} ${mid})" text-anchor="middle" font-size="12" fill="#333" ${FONT}>${esc(p.unit)}</text>`,
  )
  const groupW = (p.x1 - p.x0) / p.groups.length
  const barW = Math.min(46, (groupW * 0.72) / runs)
  for (const [g, name] of p.groups.entries()) {
    const gx = p.x0 + g * groupW + (groupW - barW * runs) / 2
    for (let r = 0; r < runs; r++) {
      const v = p.values[g]![r]!
      const x = gx + r * barW
      const yy = y(v)
      out.push(
        `<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(BOTTOM - yy).toFixed(1)}" fill="${COLOURS[r % COLOURS.length]}"/>`,
      )
      out.push(
        `<text x="${(x + (barW - 3) / 2).toFixed(1)}" y="${(yy - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#222" ${FONT}>${fmt(v)}</text>`,
      )
    }
    out.push(
      `<text x="${(p.x0 + (g + 0.5) * groupW).toFixed(1)}" y="${BOTTOM + 18}" text-anchor="middle" font-size="12" fill="#333" ${FONT}>${esc(name)}</text>`,
    )
  }
  return out.join('\n')
}

/**
 * The chart as an SVG document.
 *
 * @example
 *   await writeFile('reports/baseline-vs-optimized.svg', renderChart('Baseline vs optimized', '50 VUs × 10s', runs))
 *   renderChart(title, subtitle, [baseline], "'optimized' not run: proxy-cache missing")
 */
export function renderChart(
  title: string,
  subtitle: string,
  runs: readonly ChartRun[],
  note?: string,
): string {
  const n = Math.max(1, runs.length)
  const latency: Panel = {
    x0: 80,
    x1: 600,
    title: 'Latency',
    unit: 'milliseconds',
    groups: ['avg', 'p50', 'p90', 'p95', 'p99'],
    values: (['avg', 'p50', 'p90', 'p95', 'p99'] as const).map((k) => runs.map((r) => r.latency[k])),
  }
  const throughput: Panel = {
    x0: 720,
    x1: 940,
    title: 'Throughput',
    unit: 'requests per second',
    groups: ['req/s'],
    values: [runs.map((r) => r.rate)],
  }
  const legend = runs
    .map((r, i) => {
      const x = 80 + i * 180
      return `<rect x="${x}" y="${BOTTOM + 44}" width="14" height="14" fill="${COLOURS[i % COLOURS.length]}"/><text x="${x + 20}" y="${BOTTOM + 56}" font-size="13" fill="#222" ${FONT}>${esc(r.name)}</text>`
    })
    .join('\n')
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="${W}" height="${H}" fill="#ffffff"/>
<text x="${W / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold" ${FONT}>${esc(title)}</text>
<text x="${W / 2}" y="48" text-anchor="middle" font-size="12" fill="#555" ${FONT}>${esc(subtitle)}</text>
${panel(latency, n)}
${panel(throughput, n)}
${legend}
${note === undefined ? '' : `<text x="${W - 20}" y="${BOTTOM + 56}" text-anchor="end" font-size="12" fill="#b03a2e" ${FONT}>${esc(note)}</text>`}
</svg>
`
}
