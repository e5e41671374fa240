// The config layer's public API: load, validate, export and version declarative configuration.
export { type ParseOptions, parseConfigText, parseDeclarative } from './declarative.js'
export { configHash } from './hash.js'
export { hashPassword, isPasswordHash, verifyPassword } from './password.js'
export {
  aclSchema,
  basicAuthSchema,
  caCertificateSchema,
  certificateSchema,
  checkSniName,
  consumerSchema,
  healthchecksSchema,
  jwtSecretSchema,
  keyAuthSchema,
  pluginSchema,
  routeSchema,
  serviceSchema,
  sniSchema,
  targetSchema,
  upstreamSchema,
} from './schemas.js'
export { parseServiceUrl, type ServiceUrlParts, type ServiceUrlResult } from './url.js'
export {
  adoptValidated,
  exportDeclarative,
  toDeclarative,
  type ValidationResult,
  validateDocument,
} from './validate.js'
