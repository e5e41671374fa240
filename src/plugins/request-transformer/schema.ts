import { z } from 'zod'
import { httpMethod } from '../../config/fields.js'
import { COLON_ENTRY, isHeaderName, isHeaderValue, splitPair } from '../kit/transform/pairs.js'
import { compileTemplate, TemplateError } from './template.js'

const list = <T extends z.ZodType>(item: T) => z.array(item).default(() => [])

/** A value that must compile as a template (Kong's `pl_template.compile` check). */
function checkTemplate(value: string, ctx: z.RefinementCtx): void {
  try {
    compileTemplate(value)
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err
    ctx.addIssue({
      code: 'custom',
      message: `value '${value}' is not in supported format, error: ${err.message}`,
    })
  }
}

/** `name:value` for body and querystring entries: a value is required (Kong's `check_for_value`). */
const valueEntry = z.string().superRefine((entry, ctx) => {
  const { name, value } = splitPair(entry)
  if (value === '') ctx.addIssue({ code: 'custom', message: `key '${name}' has no value` })
  else checkTemplate(value, ctx)
})

/** `Header:value`: a valid header name; the value a valid header value or a template. */
const headerValueEntry = z
  .string()
  .regex(COLON_ENTRY, { error: (issue) => `invalid value: ${String(issue.input)}` })
  .superRefine((entry, ctx) => {
    const { name, value } = splitPair(entry)
    if (!isHeaderName(name)) ctx.addIssue({ code: 'custom', message: `'${name}' is not a valid header` })
    else if (!isHeaderValue(value))
      ctx.addIssue({ code: 'custom', message: `'${value}' is not a valid header` })
    else checkTemplate(value, ctx)
  })

/** `Old-Name:New-Name` header renames. */
const headerRenameEntry = z
  .string()
  .regex(COLON_ENTRY, { error: (issue) => `invalid value: ${String(issue.input)}` })
  .superRefine((entry, ctx) => {
    const { name, value } = splitPair(entry)
    for (const n of [name, value])
      if (!isHeaderName(n)) ctx.addIssue({ code: 'custom', message: `'${n}' is not a valid header` })
  })

/** A header name to remove (Kong validates the part before any colon). */
const headerName = z.string().superRefine((entry, ctx) => {
  const { name } = splitPair(entry)
  if (!isHeaderName(name)) ctx.addIssue({ code: 'custom', message: `'${name}' is not a valid header` })
})

const valueRecord = (verb: string) => ({
  body: list(valueEntry).describe(`\`name:value\` JSON or form body parameters to ${verb}.`),
  headers: list(headerValueEntry).describe(`\`Header:value\` request headers to ${verb}.`),
  querystring: list(valueEntry).describe(`\`name:value\` query arguments to ${verb}.`),
})

/**
 * Kong 3.x `request-transformer` config. Values may be templates (`$(headers.x)`,
 * `$(query_params.x)`, `$(uri_captures.x)`, see template.ts).
 *
 * @example
 *   schema.parse({ add: { headers: ['x-consumer:$(headers.x_user)'], querystring: ['v:2'] }, replace: { uri: '/v2/$(uri_captures.rest)' } })
 */
export const schema = z.strictObject({
  http_method: httpMethod
    .optional()
    .describe(
      'Method of the upstream request (upper-case); to GET/HEAD/TRACE a form body also goes into the query.',
    ),
  remove: z
    .strictObject({
      body: list(z.string()).describe('Body parameters to remove.'),
      headers: list(headerName).describe('Request headers to remove.'),
      querystring: list(z.string()).describe('Query arguments to remove.'),
    })
    .prefault({})
    .describe('What to remove (first).'),
  rename: z
    .strictObject({
      body: list(valueEntry).describe('`old:new` body parameters to rename.'),
      headers: list(headerRenameEntry).describe('`Old-Name:New-Name` request headers to rename.'),
      querystring: list(valueEntry).describe('`old:new` query arguments to rename.'),
    })
    .prefault({})
    .describe('What to rename, when present.'),
  replace: z
    .strictObject({
      ...valueRecord('replace, when present'),
      uri: z
        .string()
        .optional()
        .superRefine((v, ctx) => {
          if (v !== undefined) checkTemplate(v, ctx)
        })
        .describe('The whole upstream path (a template), replacing the routed one.'),
    })
    .prefault({})
    .describe('What to replace, when present.'),
  add: z.strictObject(valueRecord('add, when absent')).prefault({}).describe('What to add, when absent.'),
  append: z
    .strictObject(valueRecord('append after any existing value'))
    .prefault({})
    .describe('What to append after any existing value.'),
})

export type Config = z.infer<typeof schema>
