/**
 * The Kong parity table, as a test reporter: how many of Kong's spec cases ported into
 * test/kong/ hold, per Kong spec file, and every case that does not with its reason (the skip
 * or todo reason the case carries, or the failure's message).
 *
 *   PORTICO_TEST_REPORTER=./dist/scripts/kong-parity.js npm test -- dist/test/kong/
 *
 * `npm test` builds, starts its private Redis and runs the files with this reporter instead of
 * TAP. Each test file names its Kong spec file in its first line ("Port of Kong 3.10 spec/…"):
 * that is the table's first column.
 */
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'

interface Case {
  file: string
  name: string
  outcome: 'pass' | 'fail' | 'skip' | 'todo'
  reason: string
}

interface TestEvent {
  type: string
  data: {
    name: string
    file?: string
    skip?: string | boolean
    todo?: string | boolean
    details?: { type?: string; error?: { message?: string; cause?: { message?: string } } }
  }
}

const root = join(import.meta.dirname, '..', '..')

/** the Kong spec file a ported test file transcribes, from its header comment */
function kongSpec(testFile: string): string {
  try {
    const source = readFileSync(join(root, 'test', 'kong', testFile), 'utf8')
    const m = /(spec\/[\w./-]+_spec\.lua|spec\/fixtures\/[\w./-]+)/.exec(source.split('\n')[0] ?? '')
    return m?.[1] ?? testFile
  } catch {
    return testFile
  }
}

const reasonOf = (v: string | boolean | undefined) => (typeof v === 'string' ? v : '')

/** One leaf test's outcome from a `test:pass` / `test:fail` event; suites give none. */
export function caseOf(event: TestEvent): Case | null {
  if (event.type !== 'test:pass' && event.type !== 'test:fail') return null
  const { data } = event
  if (data.details?.type === 'suite' || data.file === undefined) return null
  const file = basename(data.file).replace(/\.js$/, '.ts')
  if (data.skip !== undefined && data.skip !== false)
    return { file, name: data.name, outcome: 'skip', reason: reasonOf(data.skip) }
  if (data.todo !== undefined && data.todo !== false)
    return { file, name: data.name, outcome: 'todo', reason: reasonOf(data.todo) }
  if (event.type === 'test:pass') return { file, name: data.name, outcome: 'pass', reason: '' }
  const error = data.details?.error
  const message = (error?.cause?.message ?? error?.message ?? 'failed').split('\n')[0] ?? ''
  return { file, name: data.name, outcome: 'fail', reason: message }
}

/** The table and the list of cases that do not hold, in Markdown. */
export function table(cases: readonly Case[]): string {
  const byFile = new Map<string, Case[]>()
  for (const c of cases) byFile.set(c.file, [...(byFile.get(c.file) ?? []), c])
  const rows = [...byFile].sort((a, b) => kongSpec(a[0]).localeCompare(kongSpec(b[0])))
  const out = [
    '| Kong spec file | Portico test | cases | hold | skipped | todo | failing |',
    '|---|---|---:|---:|---:|---:|---:|',
  ]
  const count = (list: readonly Case[], o: Case['outcome']) => list.filter((c) => c.outcome === o).length
  for (const [file, list] of rows) {
    const n = (o: Case['outcome']) => count(list, o)
    out.push(
      `| ${kongSpec(file)} | ${file} | ${list.length} | ${n('pass')} | ${n('skip')} | ${n('todo')} | ${n('fail')} |`,
    )
  }
  const t = (o: Case['outcome']) => count(cases, o)
  out.push(
    `| **total** | ${rows.length} files | ${cases.length} | ${t('pass')} | ${t('skip')} | ${t('todo')} | ${t('fail')} |`,
  )
  const open = cases.filter((c) => c.outcome !== 'pass')
  if (open.length > 0) {
    out.push('', 'Cases that do not hold:', '')
    for (const c of open) out.push(`- ${c.file}: "${c.name}" (${c.outcome}): ${c.reason}`)
  }
  return `${out.join('\n')}\n`
}

/** node:test reporter: collects every leaf outcome, prints the table once the run ends. */
export default async function* reporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const cases: Case[] = []
  for await (const event of source) {
    const c = caseOf(event)
    if (c !== null) cases.push(c)
  }
  yield table(cases)
}
