/**
 * A stand-in for an AI model server (the "python" and "node" backends of the reference Go
 * gateway). It costs a configurable latency per request and returns an output that depends
 * only on the model and the input, so a gateway may cache `POST /infer` and a test can tell a
 * cached answer from a fresh one only by timing and headers, never by content.
 */
import { createHash } from 'node:crypto'
import { parseObject, readBody } from './body.js'
import { delay, HttpError, sendJson, serve } from './http.js'
import type { DemoServer, ListenOptions } from './types.js'

/**
 * Options of {@link startInference}.
 *
 * @example
 *   const opts: InferenceOptions = { name: 'inference-a', model: 'python', latencyMs: 50 }
 */
export interface InferenceOptions extends ListenOptions {
  /** instance name for `X-Instance` and `instance` (default `inference`) */
  name?: string
  /** model name reported in `model` (default: the instance name) */
  model?: string
  /** base delay before answering (default 50 ms) */
  latencyMs?: number
  /** extra random delay in `[0, jitterMs]` (default 0) */
  jitterMs?: number
}

/**
 * The deterministic part of an answer: what "the model" makes of an input.
 *
 * @example
 *   infer('python', 'hello world')
 *   // → { text: 'dlrow olleh', tokens: 2, characters: 11, digest: '…16 hex…' }
 */
export function infer(
  model: string,
  input: unknown,
): { text: string; tokens: number; characters: number; digest: string } {
  const source = typeof input === 'string' ? input : canonicalJson(input)
  const chars = Array.from(source) // code points, so reversing never splits a surrogate pair
  return {
    text: chars.reverse().join(''),
    tokens: source.split(/\s+/).filter((word) => word !== '').length,
    characters: chars.length,
    digest: createHash('sha256').update(`${model}\0${source}`).digest('hex').slice(0, 16),
  }
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same input. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
}

/**
 * Starts an inference service: `POST /infer` with `{"prompt": "…"}` or `{"input": …}` answers
 * `{"model", "instance", "output", "latency_ms"}` after `latencyMs` (+ jitter).
 *
 * @example
 *   const a = await startInference({ name: 'inference-a', model: 'python', latencyMs: 10 })
 *   const r = await fetch(`${a.url}/infer`, { method: 'POST', body: '{"prompt":"hi there"}' })
 *   // → 200 {"model":"python","instance":"inference-a","output":{"text":"ereht ih","tokens":2,…},…}
 */
export function startInference(opts: InferenceOptions = {}): Promise<DemoServer> {
  const name = opts.name ?? 'inference'
  const model = opts.model ?? name
  const latencyMs = Math.max(0, opts.latencyMs ?? 50)
  const jitterMs = Math.max(0, opts.jitterMs ?? 0)

  return serve(name, opts, async (req, res, url) => {
    if (url.pathname !== '/infer') throw new HttpError(404, 'not_found', `no route for ${url.pathname}`)
    if (req.method !== 'POST') {
      throw new HttpError(405, 'method_not_allowed', 'use POST /infer', { allow: 'POST' })
    }
    // Parsed as JSON whatever the Content-Type says: `curl -d` sends JSON labelled as a form.
    const body = parseObject(await readBody(req), 'application/json')
    const input = body.prompt ?? body.input
    if (input === undefined || input === null) {
      throw new HttpError(400, 'invalid_input', 'body needs "prompt" (a string) or "input"')
    }
    if (body.prompt !== undefined && typeof body.prompt !== 'string') {
      throw new HttpError(400, 'invalid_input', '"prompt" must be a string')
    }
    const output = infer(model, input)
    const waitMs = latencyMs + (jitterMs > 0 ? Math.round(Math.random() * jitterMs) : 0)
    const began = performance.now()
    if (!(await delay(waitMs, res))) return
    sendJson(res, 200, {
      model,
      instance: name,
      output,
      latency_ms: Math.round(performance.now() - began),
    })
  })
}
