import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { generatedFiles } from './generated.js'

// `npm run docs`: rewrites every generated file (plugin reference pages, settings, Admin API
// index, the compose stacks' gateway file). test/ship/generated.test.ts fails when one differs.
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
for (const [path, text] of await generatedFiles()) {
  writeFileSync(`${ROOT}${path}`, text)
  process.stdout.write(`wrote ${path}\n`)
}
