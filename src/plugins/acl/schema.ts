import { z } from 'zod'

/**
 * acl's `config` (Kong 3.x): exactly one of `allow` and `deny`.
 *
 * @example
 *   schema.parse({ allow: ['admins'] }) // → { allow: ['admins'], hide_groups_header: false, … }
 */
export const schema = z
  .strictObject({
    allow: z
      .array(z.string().min(1))
      .optional()
      .describe('groups allowed to consume the route or service (one of allow/deny is required)'),
    deny: z
      .array(z.string().min(1))
      .optional()
      .describe('groups not allowed to consume the route or service (one of allow/deny is required)'),
    hide_groups_header: z
      .boolean()
      .default(false)
      .describe('do not send X-Consumer-Groups upstream (default false)'),
    always_use_authenticated_groups: z
      .boolean()
      .default(false)
      .describe(
        "prefer groups set by an authentication plugin over the consumer's (default false); no Portico plugin sets such groups, so the consumer's groups are used either way",
      ),
    include_consumer_groups: z
      .literal(false)
      .default(false)
      .describe('match Kong Enterprise consumer groups too: accepted only at its default, false'),
  })
  .superRefine((c, ctx) => {
    if ((c.allow === undefined) === (c.deny === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: c.allow === undefined ? [] : ['deny'],
        message:
          c.allow === undefined
            ? "at least one of these fields must be non-empty: 'config.allow', 'config.deny'"
            : "only one of these fields can be set: 'config.allow', 'config.deny'",
      })
    }
  })

export type AclConfig = z.output<typeof schema>
