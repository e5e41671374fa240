/**
 * A stand-in for an AI model server (the "python" and "node" backends of the reference Go
 * gateway). It costs a configurable latency per request and returns an output that depends
 * only on the model and the input, so a gateway may cache `POST /infer` and a test can tell a
 * cached answer from a fresh one only by timing and headers, never by content.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
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
  /** start failing (the flaky instance's switch, see {@link startInference}); default false */
  failing?: boolean
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
 * Every instance can be switched to fail, as a sick model server would (the demo's
 * `inference-flaky` is there for it): `POST /admin/fail` (`{"fail": false}` or `DELETE
 * /admin/fail` heals it; `{"status": 500}` picks the status, 503 by default) makes `POST /infer`
 * answer that status at once. `GET /stats` says `{"calls", "failing"}`: the inferences asked
 * of it, failed ones included.
 *
 * @example
 *   const a = await startInference({ name: 'inference-a', model: 'python', latencyMs: 10 })
 *   const r = await fetch(`${a.url}/infer`, { method: 'POST', body: '{"prompt":"hi there"}' })
 *   // → 200 {"model":"python","instance":"inference-a","output":{"text":"ereht ih","tokens":2,…},…}
 *   await fetch(`${a.url}/admin/fail`, { method: 'POST' })   // → every /infer now 503
 */
export function startInference(opts: InferenceOptions = {}): Promise<DemoServer> {
  const name = opts.name ?? 'inference'
  const model = opts.model ?? name
  const latencyMs = Math.max(0, opts.latencyMs ?? 50)
  const jitterMs = Math.max(0, opts.jitterMs ?? 0)
  const state = { calls: 0, failing: opts.failing === true, status: 503 }

  return serve(name, opts, async (req, res, url) => {
    if (url.pathname === '/stats' && req.method === 'GET') {
      return sendJson(res, 200, { calls: state.calls, failing: state.failing })
    }
    if (url.pathname === '/admin/fail') return switchFailure(req, res, state)
    if (url.pathname !== '/infer') throw new HttpError(404, 'not_found', `no route for ${url.pathname}`)
    if (req.method !== 'POST') {
      throw new HttpError(405, 'method_not_allowed', 'use POST /infer', { allow: 'POST' })
    }
    state.calls++
    if (state.failing) throw new HttpError(state.status, 'failing', `${name} is switched to fail`)
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

/** `POST /admin/fail` (`{"fail"?: boolean, "status"?: 500–599}`) or `DELETE /admin/fail`. */
async function switchFailure(
  req: IncomingMessage,
  res: ServerResponse,
  state: { failing: boolean; status: number },
): Promise<void> {
  if (req.method === 'DELETE') state.failing = false
  else if (req.method === 'POST') {
    const raw = await readBody(req)
    const body = raw.length === 0 ? {} : parseObject(raw, 'application/json')
    const status = body.status ?? 503
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 500 || status > 599) {
      throw new HttpError(400, 'invalid_input', '"status" must be 500–599')
    }
    state.failing = body.fail !== false
    state.status = status
  } else
    throw new HttpError(405, 'method_not_allowed', 'use POST or DELETE /admin/fail', {
      allow: 'POST, DELETE',
    })
  sendJson(res, 200, { failing: state.failing, status: state.status })
}
