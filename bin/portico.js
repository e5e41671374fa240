#!/usr/bin/env node
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/src/cli/index.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('portico is not built yet: run `npm run build` (or `npm start`) first\n')
  process.exit(1)
}
const { main } = await import(entry.href)
try {
  const code = await main(process.argv.slice(2))
  if (code !== undefined) process.exitCode = code
} catch (err) {
  process.stderr.write(`portico: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
