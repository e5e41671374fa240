import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { allPluginsNode } from '../fixtures/all-plugins.js'
import { call } from '../fixtures/helpers.js'
import { parseExposition } from '../fixtures/metrics-text.js'
import { selectors } from '../fixtures/promql.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** series Prometheus makes itself when it scrapes, never on a target's /metrics */
const PROMETHEUS_OWN = new Set(['up'])

type Panel = { title: string; targets?: Array<{ expr: string }>; panels?: Panel[] }

function dashboardExprs(): Array<[string, string]> {
  const dash = JSON.parse(readFileSync(`${ROOT}deploy/grafana/portico.json`, 'utf8')) as { panels: Panel[] }
  const flat = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...flat(p.panels ?? [])])
  return flat(dash.panels).flatMap((p) =>
    (p.targets ?? []).map((t): [string, string] => [`dashboard: ${p.title}`, t.expr]),
  )
}

function ruleExprs(): Array<[string, string]> {
  const doc = parse(readFileSync(`${ROOT}deploy/prometheus/portico-alerts.yml`, 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>
  }
  return doc.groups.flatMap((g) => g.rules.map((r): [string, string] => [`alert: ${r.alert}`, r.expr]))
}

describe('dashboards and alert rules', () => {
  let exposed: Map<string, Set<string>>
  let close: () => Promise<void>
  before(async () => {
    const n = await allPluginsNode(REDIS_URL)
    close = n.close
    const text = (await call(`http://127.0.0.1:${n.node.status!.port}/metrics`)).text
    exposed = new Map()
    for (const s of parseExposition(text)) {
      const labels = exposed.get(s.name) ?? new Set<string>()
      for (const l of Object.keys(s.labels)) labels.add(l)
      exposed.set(s.name, labels)
    }
  })
  after(() => close())

  test('the dashboard covers what the issue lists and the rules what must page', () => {
    const titles = dashboardExprs().map(([where]) => where)
    for (const topic of [
      'Requests',
      '5xx',
      'gateway vs upstream',
      'Cache',
      'Rate limiting',
      'Redis',
      'worker',
      'Unhealthy',
    ])
      assert.ok(
        titles.some((t) => t.includes(topic)),
        `a panel about ${topic}`,
      )
    const alerts = ruleExprs().map(([where]) => where)
    for (const a of [
      'ErrorRate',
      'LatencyP99',
      'UpstreamTargetUnhealthy',
      'RedisUnreachable',
      'ConfigStoreDiverged',
    ])
      assert.ok(
        alerts.some((t) => t.includes(a)),
        `an alert on ${a}`,
      )
  })

  test('every PromQL expression names only series (and labels) present on /metrics after traffic with every plugin on', () => {
    const problems: string[] = []
    const all = [...dashboardExprs(), ...ruleExprs()]
    assert.ok(all.length > 20)
    for (const [where, expr] of all) {
      const found = selectors(expr)
      if (found.length === 0) problems.push(`${where}: no series in ${expr}`)
      for (const s of found) {
        if (PROMETHEUS_OWN.has(s.name)) continue
        const labels = exposed.get(s.name)
        if (labels === undefined) problems.push(`${where}: ${s.name} is not on /metrics`)
        else
          for (const l of s.labels) if (!labels.has(l)) problems.push(`${where}: ${s.name} has no label ${l}`)
      }
    }
    assert.deepEqual(problems, [])
  })

  test('the expression reader finds the series and only them', () => {
    assert.deepEqual(
      selectors(
        'histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{code=~"5..", route!="x"}[$__rate_interval]))) / on (route) group_left b > bool 1e-9 and time() - c offset 5m',
      ),
      [
        { name: 'a_bucket', labels: ['code', 'route'] },
        { name: 'b', labels: [] },
        { name: 'c', labels: [] },
      ],
    )
  })
})
