import { z } from 'zod'
import type { Protocol } from '../core/entities.js'
import {
  kongComments,
  name,
  nonEmpty,
  protocol,
  tags,
  timestamp,
  unsupported,
  uuid,
  withoutNulls,
} from './fields.js'

/**
 * A plugin instance (Kong 3.x) before its `config` meets the plugin's own schema: the loader
 * looks the definition up by `name` in the registry and replaces `config` with that schema's
 * output. Nulls are removed from `config` too: Kong exports every unset config field as null,
 * and a plugin schema should not have to know.
 *
 * @example
 *   pluginSchema.parse({ name: 'cors' }) // → { name: 'cors', config: {}, enabled: true, protocols: ['grpc', 'grpcs', 'http', 'https'] }
 */
export const pluginSchema = z.preprocess(
  withoutNulls,
  z
    .strictObject({
      id: uuid.optional(),
      name: nonEmpty,
      instance_name: name.optional(),
      config: z.record(z.string(), z.unknown()).default(() => ({})),
      enabled: z.boolean().default(true),
      protocols: z
        .array(protocol)
        .min(1)
        .default(() => ['grpc', 'grpcs', 'http', 'https'] as Protocol[]),
      tags: tags.optional(),
      ordering: unsupported('ordering (a Kong Enterprise feature)'),
      consumer_group: unsupported('consumer_group (a Kong Enterprise feature)'),
      created_at: timestamp.optional(),
      updated_at: timestamp.optional(),
      ...kongComments,
    })
    .transform(({ _comment, _ignore, updated_at: _updated, ...plugin }) => plugin),
)
