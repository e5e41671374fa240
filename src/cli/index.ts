import { parseArgs } from 'node:util'
import { createRegistry } from '../plugins/index.js'
import { START_OPTIONS } from './settings.js'
import { startCommand } from './start.js'
import { runValidate } from './validate.js'

const USAGE = `portico — an API gateway for microservices

usage:
  portico start [flags]          run a gateway node (embedded default: memory store, ./portico.yaml if present)
  portico init [FILE]            write a commented portico.yaml starter and print the next commands
  portico demo                   start the demo services and a gateway wired to them on :8000
  portico demo-service NAME      one demo service alone (inference-a|inference-b|users-1|users-2|slow|auth)
  portico health                 exit 0 when this node's status listener answers /healthz (image HEALTHCHECK)
  portico --version              the version
  portico validate FILE          check a declarative file; prints every error with its path
  portico config export|apply|diff  a running node's configuration (portico config --help)
  portico bench URL [flags]      drive load and print a k6-style summary (portico bench --help)
  portico bench scenario NAME    baseline-vs-optimized | rate-limit | cache | inference against the demo
                                 stack; writes reports/NAME.md, .json, .csv, .svg (portico bench scenario --help)

start flags (each also a PORTICO_* variable):
${Object.entries(START_OPTIONS)
  .map(([k, o]) => `  --${k.padEnd(16)} ${o.env.padEnd(28)} ${o.help}`)
  .join('\n')}
`

/** The `portico` command; returns the exit code for commands that finish. */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv
  switch (command) {
    case 'start': {
      const options = Object.fromEntries(Object.entries(START_OPTIONS).map(([k, o]) => [k, { type: o.type }]))
      const { values } = parseArgs({ args: rest, options: options as never, strict: true })
      await startCommand(values as never)
      return undefined
    }
    case 'validate': {
      if (rest.length !== 1) {
        process.stderr.write('usage: portico validate FILE\n')
        return 2
      }
      return runValidate(rest[0]!, createRegistry(), process.stdout)
    }
    case 'config': {
      const { runConfigCli } = await import('./config.js')
      return runConfigCli(rest, {
        stdout: process.stdout,
        stderr: process.stderr,
        env: process.env,
        registry: createRegistry(),
      })
    }
    case 'bench': {
      const { runBenchCli } = await import('../../bench/cli.js')
      const abort = new AbortController()
      process.once('SIGINT', () => abort.abort())
      return runBenchCli(rest, { stdout: process.stdout, stderr: process.stderr, signal: abort.signal })
    }
    case 'init': {
      const { runInit } = await import('./init.js')
      return runInit(rest, process.cwd(), process.stdout, process.stderr)
    }
    case 'health': {
      const { runHealth } = await import('./health.js')
      return runHealth(process.env, process.cwd(), process.stderr)
    }
    case '--version':
    case '-v':
    case 'version': {
      const { VERSION } = await import('../main.js')
      process.stdout.write(`portico ${VERSION}\n`)
      return 0
    }
    case 'demo-service': {
      const { demoServiceCommand } = await import('./demo.js')
      return demoServiceCommand(rest)
    }
    case 'demo': {
      const { demoCommand } = await import('./demo.js')
      await demoCommand(rest)
      return undefined
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`unknown command '${command}'\n\n${USAGE}`)
      return 2
  }
}
