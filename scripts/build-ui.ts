/**
 * Builds the admin UI (ui/src, Preact + uPlot) into dist/ui with esbuild: one minified
 * script, one stylesheet and index.html, everything inside the package (no CDN), served by the
 * admin listener under /ui/. Run by `npm run build` after tsc.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = `${root}dist/ui`
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
await build({
  entryPoints: { app: `${root}ui/src/main.tsx` },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
})
copyFileSync(`${root}ui/src/index.html`, `${out}/index.html`)
