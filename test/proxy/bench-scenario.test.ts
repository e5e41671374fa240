import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runScenarioCli, SCENARIO_EXIT } from '../../bench/scenario/cli.js'
import { startTestServer } from '../../bench/test-server.js'
import type { PluginRegistry } from '../../src/core/plugin.js'
import { createRegistry } from '../../src/plugins/index.js'

function sink() {
  const chunks: string[] = []
  return {
    write: (s: string) => chunks.push(s),
    get text() {
      return chunks.join('')
    },
  }
}

/** Runs the command with a private output directory; FAST keeps the demo services quick. */
async function scenario(argv: string[], registry = createRegistry(), env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scenario-test-'))
  const stdout = sink()
  const stderr = sink()
  const code = await runScenarioCli(
    [...argv, '--out-dir', dir, '-q', '--slow-ms', '20', '--inference-ms', '2'],
    {
      stdout,
      stderr,
      env,
      registry,
    },
  )
  const read = (ext: string) => readFileSync(join(dir, `${argv[0]}.${ext}`), 'utf8')
  return {
    code,
    stdout: stdout.text,
    stderr: stderr.text,
    dir,
    read,
    has: (ext: string) => existsSync(join(dir, `${argv[0]}.${ext}`)),
  }
}

/** This build's plugins minus some: the refusal path is tested whatever the build holds. */
function without(...names: string[]): PluginRegistry {
  const all = createRegistry()
  return {
    get: (n) => (names.includes(n) ? undefined : all.get(n)),
    names: () => all.names().filter((n) => !names.includes(n)),
  }
}

test('inference scenario: both runs measured, reports written in four formats', async () => {
  const r = await scenario(['inference', '--vus', '2', '-d', '500ms'])
  assert.equal(r.code, SCENARIO_EXIT.OK, r.stderr)
  assert.match(r.stdout, /── python\n/)
  assert.match(r.stdout, /── node\n/)
  const md = r.read('md')
  assert.match(md, /^# Inference/)
  assert.match(md, /\| python \| \d+ \| [\d.]+ \|/)
  assert.match(md, /\| node \| \d+ \| [\d.]+ \|/)
  assert.match(md, /!\[latency and throughput per run\]\(inference\.svg\)/)
  const csv = r.read('csv').trim().split('\n')
  assert.equal(csv.length, 3)
  assert.match(csv[0]!, /^scenario,run,description,requests,rate_rps,avg_ms,p50_ms/)
  assert.match(csv[1]!, /^inference,python,"POST \/infer\/python \{""prompt"": ""…""\}",\d+,/)
  const json = JSON.parse(r.read('json'))
  assert.equal(json.runs.length, 2)
  assert.equal(json.runs[0].result.failed, 0)
  assert.equal(json.runs[0].originHits, null) // no cache question in this scenario
  assert.equal(json.runs[0].cacheHitRatio, null)
  assert.equal(json.runs[0].result.statusCounts['200'], json.runs[0].result.requests)
  assert.deepEqual(
    json.runs[1].result.checks.map((c: { fails: number }) => c.fails),
    [0, 0],
  )
  const svg = r.read('svg')
  assert.match(svg, /^<\?xml[^>]*>\s*<svg [^>]*viewBox="0 0 980 460"/)
  for (const label of [
    'Latency',
    'Throughput',
    'milliseconds',
    'requests per second',
    '>python<',
    '>node<',
    '>p95<',
  ])
    assert.ok(svg.includes(label), label)
})

test('a scenario run that breaks a threshold exits 1 and names the run; reports are still written', async () => {
  const r = await scenario([
    'inference',
    '--vus',
    '2',
    '-d',
    '300ms',
    '--threshold',
    'p95<0.001',
    '--threshold',
    'failed<0.5',
  ])
  assert.equal(r.code, SCENARIO_EXIT.THRESHOLD_FAILED)
  assert.match(r.stderr, /thresholds failed: python: p95<0\.001 \(p\(95\)=[\d.]+m?s\), node: p95<0\.001/)
  assert.doesNotMatch(r.stderr, /failed<0\.5 \(/)
  assert.ok(r.has('md') && r.has('json') && r.has('csv') && r.has('svg'))
  assert.match(r.read('md'), /✗ python: `p95<0\.001`/)
  assert.match(r.read('md'), /✓ node: `failed<0\.5`/)
  const ok = await scenario(['inference', '--vus', '1', '-d', '200ms', '--threshold', 'failed<0.5'])
  assert.equal(ok.code, SCENARIO_EXIT.OK, ok.stderr)
})

test('baseline-vs-optimized without proxy-cache: the baseline is measured, then a clear refusal (exit 3)', async () => {
  const r = await scenario(['baseline-vs-optimized', '--vus', '4', '-d', '500ms'], without('proxy-cache'))
  assert.equal(r.code, SCENARIO_EXIT.UNAVAILABLE)
  assert.match(
    r.stderr,
    /the 'optimized' run needs the 'proxy-cache' plugin, which this build of Portico does not have/,
  )
  const json = JSON.parse(r.read('json'))
  assert.equal(json.runs.length, 1)
  assert.equal(json.runs[0].name, 'baseline')
  assert.ok(json.runs[0].result.requests > 0)
  // baseline: no cache, every GET /slow reached the origin
  assert.equal(json.runs[0].cacheHitRatio, 0)
  const n = json.runs[0].result.requests
  assert.equal(json.runs[0].originHits, 6 * Math.floor(n / 10) + Math.min(n % 10, 6))
  assert.equal(json.improvement, null)
  assert.match(json.unavailable.message, /no figures were made up/)
  assert.match(r.read('md'), /> \*\*Not complete:\*\*/)
  assert.doesNotMatch(r.read('md'), /\| optimized \|/)
  assert.match(r.read('svg'), /'optimized' not run: proxy-cache missing/)
})

test('baseline-vs-optimized: both runs, an improvement row, the cache hits counted by the gateway', async () => {
  const r = await scenario(['baseline-vs-optimized', '--vus', '4', '-d', '800ms'])
  assert.equal(r.code, SCENARIO_EXIT.OK, r.stderr)
  const json = JSON.parse(r.read('json'))
  assert.deepEqual(
    json.runs.map((x: { name: string }) => x.name),
    ['baseline', 'optimized'],
  )
  const [base, opt] = json.runs
  assert.equal(base.cacheHitRatio, 0)
  assert.ok(opt.cacheHitRatio > 0.3, String(opt.cacheHitRatio))
  // 12 distinct /slow pages in the mix; concurrent misses collapse: one origin request each
  assert.ok(opt.originHits <= 12, String(opt.originHits))
  assert.ok(opt.cache.Hit > 0 && opt.cache.Miss > 0)
  assert.equal(base.cache.Hit, undefined)
  assert.equal(typeof json.improvement.p95, 'number')
  assert.match(r.read('md'), /\| \*\*improvement\*\* \|/)
  assert.match(r.read('md'), /\*\*optimized\*\*: .*; cache (Miss|Hit) \d+/)
  assert.equal(r.read('csv').trim().split('\n').length, 3)
})

test('with a Redis URL the report carries Redis figures for each run', async (t) => {
  const url = process.env.REDIS_URL
  if (url === undefined) return t.skip('REDIS_URL is not set')
  const r = await scenario(['inference', '--vus', '1', '-d', '200ms', '--redis-url', url])
  assert.equal(r.code, SCENARIO_EXIT.OK, r.stderr)
  const json = JSON.parse(r.read('json'))
  for (const run of json.runs) {
    assert.equal(typeof run.redis.commands, 'number')
    assert.equal(typeof run.redis.commandsPerRequest, 'number')
  }
  assert.match(
    r.read('md'),
    /## Redis\n\n\| run \| keyspace hits \| keyspace misses \| commands \| commands \/ request/,
  )
})

test('cache scenario: every request a miss, then every request a hit', async () => {
  const r = await scenario(['cache', '--vus', '4', '-d', '500ms'])
  assert.equal(r.code, SCENARIO_EXIT.OK, r.stderr)
  const [miss, hit] = JSON.parse(r.read('json')).runs
  assert.equal(miss.cacheHitRatio, 0)
  assert.equal(miss.originHits, miss.result.requests)
  assert.equal(miss.result.checks[0].fails, 0)
  assert.equal(hit.cacheHitRatio, 1)
  assert.equal(hit.originHits, 0)
  assert.equal(hit.result.checks[0].fails, 0)
})

test('rate-limit scenario: 429s beyond the limit, each with Retry-After; accepted vs limit reported', async () => {
  const r = await scenario(['rate-limit', '--limit', '20', '--rate', '60', '-d', '1s'])
  assert.equal(r.code, SCENARIO_EXIT.OK, r.stderr)
  const [run] = JSON.parse(r.read('json')).runs
  const ok = run.result.statusCounts['200'] ?? 0
  const limited = run.result.statusCounts['429'] ?? 0
  assert.equal(ok + limited, run.result.completed)
  // one second of load spans at most two one-second windows
  assert.ok(ok >= 1 && ok <= 40, String(ok))
  assert.ok(limited > 0)
  assert.equal(run.result.failed, 0) // 429 is the expected answer here
  assert.equal(run.result.checks[0].fails, 0)
  assert.match(r.read('md'), /\| limit \(req\/s\) \| offered \(req\/s\) \| accepted \(req\/s\) \|/)
  assert.match(r.read('md'), /\| 20 \| 60 \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/)
})

test('scenarios whose only runs need a missing plugin stop at once; usage errors exit 2', async () => {
  for (const [name, plugin] of [
    ['rate-limit', 'rate-limiting'],
    ['cache', 'proxy-cache'],
  ] as const) {
    const r = await scenario([name, '-d', '200ms'], without(plugin))
    assert.equal(r.code, SCENARIO_EXIT.UNAVAILABLE, name)
    assert.match(r.stderr, new RegExp(`needs the '${plugin}' plugin`))
    assert.equal(JSON.parse(r.read('json')).runs.length, 0)
    assert.equal(r.has('svg'), false)
  }
  for (const [argv, reason] of [
    [['nope'], /unknown scenario 'nope'/],
    [[], /missing scenario name/],
    [['inference', '--vus', '0'], /--vus must be a positive integer/],
    [['inference', '--threshold', 'p95<<1'], /invalid threshold/],
  ] as const) {
    const stdout = sink()
    const stderr = sink()
    assert.equal(await runScenarioCli([...argv], { stdout, stderr }), SCENARIO_EXIT.USAGE)
    assert.match(stderr.text, reason)
  }
  const help = sink()
  assert.equal(await runScenarioCli(['--help'], { stdout: help, stderr: sink() }), 0)
  assert.match(help.text, /baseline-vs-optimized/)
})

const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url))

/** Runs `node bin/portico.js …` as a real process: its exit status and output. */
function portico(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

test('the portico process exits 1 when a threshold breaks, 0 when every threshold holds (bench and bench scenario)', async () => {
  const srv = await startTestServer(() => ({ status: 200, body: 'ok' }))
  const cwd = mkdtempSync(join(tmpdir(), 'portico-bench-exit-'))
  try {
    const common = [srv.url, '--vus', '1', '-d', '300ms', '-q']
    const broken = await portico(['bench', ...common, '--threshold', 'p95<0.001'], cwd)
    assert.equal(broken.code, 1, broken.stderr)
    assert.match(broken.stderr, /thresholds failed: p95<0\.001/)
    assert.match(broken.stdout, /http_req_duration/)
    const held = await portico(['bench', ...common, '--threshold', 'failed<0.5'], cwd)
    assert.equal(held.code, 0, held.stderr)
    const scenarioRun = await portico(
      [
        'bench',
        'scenario',
        'inference',
        '--vus',
        '1',
        '-d',
        '300ms',
        '-q',
        '--inference-ms',
        '2',
        '--out-dir',
        join(cwd, 'reports'),
        '--threshold',
        'p95<0.001',
      ],
      cwd,
    )
    assert.equal(scenarioRun.code, 1, scenarioRun.stderr)
    assert.match(scenarioRun.stderr, /thresholds failed: python: p95<0\.001/)
    assert.ok(existsSync(join(cwd, 'reports', 'inference.md')), 'the reports are written anyway')
  } finally {
    await srv.close()
  }
})
