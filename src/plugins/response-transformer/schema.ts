import { z } from 'zod'
import { COLON_ENTRY, isHeaderName, isHeaderValue, splitPair } from '../kit/transform/pairs.js'

const list = <T extends z.ZodType>(item: T) => z.array(item).default(() => [])

/** `name:value` with any value (JSON properties). */
// Kong's words: `invalid value: <the entry>`
const colonEntry = z
  .string()
  .regex(COLON_ENTRY, { error: (issue) => `invalid value: ${String(issue.input)}` })

/** `name:value` where the name is a header name and the value a header value. */
const headerValueEntry = colonEntry.superRefine((entry, ctx) => {
  if (!COLON_ENTRY.test(entry)) return // refused above: one message per entry, as Kong
  const { name, value } = splitPair(entry)
  if (!isHeaderName(name)) ctx.addIssue({ code: 'custom', message: `'${name}' is not a valid header` })
  else if (!isHeaderValue(value))
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a valid header` })
})

/** `old:new` where both are header names. */
const headerRenameEntry = colonEntry.superRefine((entry, ctx) => {
  if (!COLON_ENTRY.test(entry)) return
  const { name, value } = splitPair(entry)
  for (const n of [name, value])
    if (!isHeaderName(n)) ctx.addIssue({ code: 'custom', message: `'${n}' is not a valid header` })
})

const jsonTypes = list(z.enum(['boolean', 'number', 'string'])).describe(
  'Type of each `json` value, by position: boolean, number or string (default string).',
)

const valueRecord = (verb: string) =>
  z
    .strictObject({
      json: list(colonEntry).describe(`\`property:value\` entries to ${verb} in a JSON body.`),
      json_types: jsonTypes,
      headers: list(headerValueEntry).describe(`\`Header:value\` entries to ${verb}.`),
    })
    .prefault({})

/**
 * Kong 3.x `response-transformer` config: remove, rename, replace, add, append (in that order)
 * for response headers and JSON body properties.
 *
 * @example
 *   schema.parse({ add: { headers: ['x-served-by:portico'], json: ['version:2'], json_types: ['number'] } })
 */
export const schema = z.strictObject({
  remove: z
    .strictObject({
      json: list(z.string()).describe('JSON body properties to remove.'),
      headers: list(z.string()).describe('Response headers to remove.'),
    })
    .prefault({})
    .describe('What to remove.'),
  rename: z
    .strictObject({
      json: list(colonEntry).describe('`old:new` JSON body properties to rename.'),
      headers: list(headerRenameEntry).describe('`Old-Name:New-Name` response headers to rename.'),
    })
    .prefault({})
    .describe('What to rename (only when present).'),
  replace: valueRecord('replace (only when present)').describe('What to replace (only when present).'),
  add: valueRecord('add (only when absent)').describe('What to add (only when absent).'),
  append: valueRecord('append (after any existing value)').describe(
    'What to append (after any existing value).',
  ),
})

export type Config = z.infer<typeof schema>
