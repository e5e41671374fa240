import type { z } from 'zod'
import type {
  AclEntity,
  BasicAuthCredentialEntity,
  CaCertificateEntity,
  CertificateEntity,
  ConsumerEntity,
  JwtSecretEntity,
  KeyAuthCredentialEntity,
  PluginEntity,
  Ref,
  RouteEntity,
  ServiceEntity,
  SniEntity,
  TargetEntity,
  UpstreamEntity,
} from '../core/entities.js'
import type { caCertificateSchema, certificateSchema, sniSchema } from './certificate-schema.js'
import type {
  aclSchema,
  basicAuthSchema,
  consumerSchema,
  jwtSecretSchema,
  keyAuthSchema,
} from './consumer-schemas.js'
import type { pluginSchema } from './plugin-schema.js'
import type { routeSchema } from './route-schema.js'
import type { serviceSchema } from './service-schema.js'
import type { targetSchema, upstreamSchema } from './upstream-schema.js'

export { caCertificateSchema, certificateSchema, checkSniName, sniSchema } from './certificate-schema.js'
/**
 * The entity schemas, one per Kong entity, in the form a declarative file or an Admin API body
 * writes them (Kong 3.x fields and defaults; strict: unknown fields are errors; `null` means
 * absent). Each validates the entity's own fields: `id` is optional (the loader generates a
 * deterministic one) and references to other entities (`service`, `route`, `consumer`,
 * `upstream`) are resolved by the loader, which accepts a name, an id or `{ id }` for them.
 *
 * @example
 *   const r = serviceSchema.safeParse({ name: 'users', url: 'http://users.internal:8080/v1' })
 *   // r.data → { name: 'users', protocol: 'http', host: 'users.internal', port: 8080, path: '/v1',
 *   //            retries: 5, connect_timeout: 60000, write_timeout: 60000, read_timeout: 60000, enabled: true }
 */
export {
  aclSchema,
  basicAuthSchema,
  consumerSchema,
  jwtSecretSchema,
  keyAuthSchema,
} from './consumer-schemas.js'
export { pluginSchema } from './plugin-schema.js'
export { routeSchema } from './route-schema.js'
export { serviceSchema } from './service-schema.js'
export { healthchecksSchema, targetSchema, upstreamSchema } from './upstream-schema.js'

type Loaded<S extends z.ZodType, Refs = unknown> = z.output<S> & { id: string } & Refs
/** keys whose type is more than `undefined` (Kong-only fields that may only be absent are not) */
type DefinedKeys<T> = { [K in keyof T]-?: [Exclude<T[K], undefined>] extends [never] ? never : K }[keyof T]
/** `T` fits `U`, and neither has a field the other lacks */
type Same<T extends U, U> = [Exclude<DefinedKeys<T>, keyof U>, Exclude<keyof U, keyof T>] extends [
  never,
  never,
]
  ? T
  : { extraOrMissingKeys: Exclude<DefinedKeys<T>, keyof U> | Exclude<keyof U, keyof T> }
type Check<T extends { id: string }> = T

/**
 * Compile-time proof that every schema, plus the id and references the loader adds, produces
 * exactly the core entity type: a field added to one side and not the other fails `tsc`.
 */
export type SchemasProduceCoreEntities = [
  Check<Same<Loaded<typeof serviceSchema, { client_certificate?: Ref }>, ServiceEntity>>,
  Check<Same<Loaded<typeof routeSchema, { service?: Ref }>, RouteEntity>>,
  Check<Same<Loaded<typeof consumerSchema>, ConsumerEntity>>,
  Check<Same<Loaded<typeof keyAuthSchema, { consumer: Ref }>, KeyAuthCredentialEntity>>,
  Check<Same<Loaded<typeof jwtSecretSchema, { consumer: Ref }>, JwtSecretEntity>>,
  Check<Same<Loaded<typeof basicAuthSchema, { consumer: Ref }>, BasicAuthCredentialEntity>>,
  Check<Same<Loaded<typeof aclSchema, { consumer: Ref }>, AclEntity>>,
  Check<Same<Loaded<typeof pluginSchema, { service?: Ref; route?: Ref; consumer?: Ref }>, PluginEntity>>,
  Check<Same<Loaded<typeof upstreamSchema>, UpstreamEntity>>,
  Check<Same<Loaded<typeof targetSchema, { upstream: Ref }>, TargetEntity>>,
  Check<Same<Loaded<typeof certificateSchema>, CertificateEntity>>,
  Check<Same<Loaded<typeof sniSchema, { certificate: Ref }>, SniEntity>>,
  Check<Same<Loaded<typeof caCertificateSchema>, CaCertificateEntity>>,
]
