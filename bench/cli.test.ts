import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { runBenchCli } from './cli.js'
import { parseCheck, parseDuration, parseStatuses } from './cli-args.js'
import { startTestServer } from './test-server.js'

/** Collects what the command writes; not a TTY, like a CI log. */
function sink() {
  const chunks: string[] = []
  return {
    write: (s: string) => chunks.push(s),
    get text() {
      return chunks.join('')
    },
  }
}

async function bench(argv: string[]) {
  const stdout = sink()
  const stderr = sink()
  const code = await runBenchCli(argv, { stdout, stderr })
  return { code, stdout: stdout.text, stderr: stderr.text }
}

test('a threshold that cannot hold against a failing server exits 1 and names it', async () => {
  const srv = await startTestServer(() => ({ status: 500, body: 'boom' }))
  const run = await bench([
    srv.url,
    '--vus',
    '2',
    '-d',
    '300ms',
    '--threshold',
    'failed<0',
    '--threshold',
    'rate>0',
  ])
  await srv.close()
  assert.equal(run.code, 1)
  assert.match(run.stderr, /thresholds failed: failed<0 \(failed=100\.00%\)/)
  assert.doesNotMatch(run.stderr, /failed: .*rate>0/)
  // the summary is printed whatever the verdict
  assert.match(run.stdout, /http_reqs\.+: \d+/)
  assert.match(run.stdout, /status_codes\.+: 500=\d+/)
  assert.match(run.stdout, /✗ failed<0/)
  assert.match(run.stdout, /✓ rate>0/)
})

test('passing thresholds exit 0; --out writes the JSON report; headers, method and body are sent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-bench-'))
  const out = join(dir, 'result.json')
  const bodyFile = join(dir, 'body.json')
  await writeFile(bodyFile, '{"prompt":"hi {{i}}"}')
  const srv = await startTestServer(() => ({ body: '{"ok":true}', headers: { 'x-cache': 'HIT' } }))
  const run = await bench([
    `${srv.url}/infer/{{vu}}`,
    ...['--vus', '2', '-d', '300ms', '-m', 'PUT', '-H', 'X-Client: c{{rand:3}}', '--body-file', bodyFile],
    ...['--check', 'status=2xx', '--check', 'header:x-cache=HIT', '--check', 'body~ok'],
    ...['--threshold', 'failed<0.001', '--threshold', 'checks>0.99', '--threshold', 'p(99)<60s', '-o', out],
  ])
  await srv.close()
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /checks\.+: 100\.00%/)

  const report = JSON.parse(await readFile(out, 'utf8'))
  await rm(dir, { recursive: true })
  assert.equal(report.version, 1)
  assert.equal(report.requests, srv.count)
  assert.equal(report.failed, 0)
  assert.equal(report.histograms, undefined)
  assert.equal(report.thresholds.length, 3)
  assert.ok(report.thresholds.every((t: { ok: boolean }) => t.ok))
  assert.deepEqual(
    report.checks.map((c: { name: string; fails: number }) => [c.name, c.fails]),
    [
      ['status=2xx', 0],
      ['header:x-cache=HIT', 0],
      ['body~ok', 0],
    ],
  )
  const first = srv.seen[0]!
  assert.match(first.path, /^\/infer\/[12]$/)
  assert.equal(first.headers['content-type'], 'application/json')
  assert.match(String(first.headers['x-client']), /^c[0-2]$/)
  assert.match(first.body, /^\{"prompt":"hi \d+"\}$/)
})

test('open loop from the command line, quiet: no progress, dropped shown', async () => {
  const srv = await startTestServer(() => ({}))
  const run = await bench([srv.url, '--rate', '100', '--max-vus', '5', '-d', '500ms', '-q'])
  await srv.close()
  assert.equal(run.code, 0)
  assert.equal(run.stderr, '')
  assert.match(run.stdout, /open loop, 100 req\/s for 500ms \(max 5 VUs\)/)
  assert.match(run.stdout, /dropped_iterations\.+: \d+/)
})

test('usage errors exit 2 with the reason and the usage; --help exits 0', async () => {
  const cases: [string[], RegExp][] = [
    [[], /missing URL/],
    [['http://127.0.0.1:1', 'http://127.0.0.1:2'], /one URL only/],
    [['http://127.0.0.1:1', '--bogus'], /Unknown option '--bogus'/],
    [['http://127.0.0.1:1', '-d', '10 parsecs'], /invalid duration "10 parsecs"/],
    [['http://127.0.0.1:1', '--rate', '10', '--vus', '2'], /with --rate use --max-vus/],
    [['http://127.0.0.1:1', '--max-vus', '2'], /--max-vus needs --rate/],
    [['http://127.0.0.1:1', '--vus', '1.5'], /--vus must be a positive integer/],
    [['http://127.0.0.1:1', '--threshold', 'p95<<200'], /invalid threshold "p95<<200"/],
    [['http://127.0.0.1:1', '--check', 'status~2'], /invalid check "status~2"/],
    [['http://127.0.0.1:1', '-H', 'no-colon'], /invalid header "no-colon"/],
    [['http://127.0.0.1:1', '--body', 'a', '--body-file', 'b'], /not both/],
    [['http://127.0.0.1:1', '--body-file', '/nonexistent/body'], /cannot read --body-file .*ENOENT/],
    [['http://127.0.0.1:1', '-o', '/nonexistent/dir/out.json'], /cannot write --out/],
    [['not a url'], /invalid URL "not a url"/],
    [['http://127.0.0.1:1/{{nope}}'], /unknown template \{\{nope\}\}/],
  ]
  for (const [argv, reason] of cases) {
    const run = await bench(argv)
    assert.equal(run.code, 2, argv.join(' '))
    assert.match(run.stderr, reason, argv.join(' '))
    assert.match(run.stderr, /usage: portico bench URL/)
    assert.equal(run.stdout, '')
  }
  const help = await bench(['--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /--threshold EXPR/)
})

test('durations, status lists and checks parse as documented', () => {
  assert.equal(parseDuration('30s'), 30)
  assert.equal(parseDuration('2m'), 120)
  assert.equal(parseDuration('500ms'), 0.5)
  assert.equal(parseDuration('1m30s'), 90)
  assert.equal(parseDuration('1h'), 3600)
  assert.equal(parseDuration('15'), 15)
  assert.throws(() => parseDuration('1x'), /invalid duration/)
  assert.throws(() => parseDuration('-1s'), /invalid duration/)

  const ok = parseStatuses('2xx,404')
  assert.deepEqual([200, 299, 404, 301, 500].map(ok), [true, true, true, false, false])

  const res = {
    status: 503,
    headers: { 'x-cache': 'MISS', 'set-cookie': ['a=1', 'b=2'] },
    body: 'service down',
  }
  assert.equal(parseCheck('status=200')(res), false)
  assert.equal(parseCheck('status=5xx')(res), true)
  assert.equal(parseCheck('status!=5xx')(res), false)
  assert.equal(parseCheck('header:X-Cache=MISS')(res), true)
  assert.equal(parseCheck('header:x-cache!=HIT')(res), true)
  assert.equal(parseCheck('header:set-cookie~b=2')(res), true)
  assert.equal(parseCheck('header:etag')(res), false)
  assert.equal(parseCheck('body~down')(res), true)
  assert.equal(parseCheck('body=service down')(res), true)
  assert.throws(() => parseCheck('header'), /invalid check/)
  assert.throws(() => parseCheck('status=abc'), /invalid status/)
})
