import { writeFile } from 'node:fs/promises'
import { type BenchArgs, parseBenchArgs, USAGE, UsageError } from './cli-args.js'
import { runLoad } from './load.js'
import { createProgressBar, type TextSink } from './progress.js'
import { runScenarioCli } from './scenario/cli.js'
import { formatSummary, formatThresholdValue, toJSON } from './summary.js'
import { evaluateThresholds, ThresholdError } from './thresholds.js'

export { parseDuration } from './cli-args.js'

/** Where the command writes, and what stops it (Ctrl-C, wired by the caller). */
export interface BenchIO {
  stdout: TextSink
  stderr: TextSink
  signal?: AbortSignal
}

/** Exit codes: thresholds held (or none given), a threshold failed, the command line was wrong. */
export const EXIT = { OK: 0, THRESHOLD_FAILED: 1, USAGE: 2 } as const

async function parse(argv: string[], io: BenchIO): Promise<BenchArgs | number> {
  try {
    const args = await parseBenchArgs(argv)
    if (args !== 'help') return args
    io.stdout.write(USAGE)
    return EXIT.OK
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ThresholdError)) throw err
    io.stderr.write(`portico bench: ${err.message}\n\n${USAGE}`)
    return EXIT.USAGE
  }
}

/**
 * `portico bench`: runs the load the arguments describe (or, as `portico bench scenario NAME`,
 * a scenario against the demo stack: see scenario/cli.ts), shows progress on stderr, prints the
 * k6-style summary on stdout, writes `--out` JSON, and returns the process exit code: 0, 1 when
 * a threshold failed (each failing one is named on stderr), 2 on a usage error. The summary is
 * printed whatever the verdict, so a failing CI job still shows what was measured.
 *
 * @example
 *   const ac = new AbortController()
 *   process.once('SIGINT', () => ac.abort())
 *   process.exitCode = await runBenchCli(process.argv.slice(3), {
 *     stdout: process.stdout, stderr: process.stderr, signal: ac.signal,
 *   })
 */
export async function runBenchCli(argv: string[], io: BenchIO): Promise<number> {
  if (argv[0] === 'scenario') return runScenarioCli(argv.slice(1), io)
  const args = await parse(argv, io)
  if (typeof args === 'number') return args
  const bar = args.quiet ? null : createProgressBar(io.stderr)
  const result = await runLoad({
    ...args.load,
    ...(bar && { onProgress: (s) => bar.update(s) }),
    ...(io.signal && { signal: io.signal }),
  })
  bar?.done()

  const verdicts = evaluateThresholds(args.thresholds, result)
  io.stdout.write(`\n${formatSummary(result, verdicts)}`)
  if (args.out !== undefined) {
    try {
      await writeFile(args.out, `${JSON.stringify(toJSON(result, verdicts), null, 2)}\n`)
    } catch (err) {
      io.stderr.write(`portico bench: cannot write ${args.out}: ${(err as Error).message}\n`)
      return EXIT.USAGE
    }
    if (!args.quiet) io.stderr.write(`result written to ${args.out}\n`)
  }
  const failing = verdicts.filter((v) => !v.ok)
  if (failing.length === 0) return EXIT.OK
  const list = failing.map((f) => `${f.threshold} (${f.stat}=${formatThresholdValue(f.value, f.unit)})`)
  io.stderr.write(`thresholds failed: ${list.join(', ')}\n`)
  return EXIT.THRESHOLD_FAILED
}
