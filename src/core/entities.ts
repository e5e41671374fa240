/**
 * The entity model, in the flat form every part of Portico shares: the declarative loader
 * flattens nested entities into it, the Admin API stores it, the runtime compiler reads it.
 * Field names and defaults are Kong's (Admin API 3.x), so an exported document round-trips.
 */

/** A reference to another entity, as Kong writes it: `{ "id": "…" }`. */
export interface Ref {
  id: string
}

export type Protocol = 'http' | 'https' | 'grpc' | 'grpcs' | 'tcp' | 'tls' | 'udp' | 'ws' | 'wss'

export interface ServiceEntity {
  id: string
  name?: string | undefined
  protocol: 'http' | 'https' | 'ws' | 'wss'
  /** a host name, an IP, or the name of an upstream entity */
  host: string
  port: number
  path?: string | null | undefined
  retries: number
  connect_timeout: number
  write_timeout: number
  read_timeout: number
  enabled: boolean
  tls_verify?: boolean | null | undefined
  /** longest certificate chain accepted from the upstream (Kong's `tls_verify_depth`) */
  tls_verify_depth?: number | null | undefined
  /** the certificate (and key) presented to an upstream that asks for one (mTLS) */
  client_certificate?: Ref | null | undefined
  /** ids of `ca_certificates` that verify the upstream instead of the system store */
  ca_certificates?: string[] | null | undefined
  tags?: string[] | null | undefined
  created_at?: number | undefined
  updated_at?: number | undefined
}

/** A certificate and its private key (PEM), with an optional second pair of the other key type. */
export interface CertificateEntity {
  id: string
  cert: string
  key: string
  cert_alt?: string | null | undefined
  key_alt?: string | null | undefined
  tags?: string[] | null | undefined
  created_at?: number | undefined
  updated_at?: number | undefined
}

/** A server name (exact, `*.example.com` or `example.*`) served with a certificate. */
export interface SniEntity {
  id: string
  name: string
  certificate: Ref
  tags?: string[] | null | undefined
  created_at?: number | undefined
  updated_at?: number | undefined
}

/** A trusted CA certificate (PEM) that services name to verify their upstreams. */
export interface CaCertificateEntity {
  id: string
  cert: string
  /** sha256 of the certificate's DER, hex (Kong's unique `cert_digest`) */
  cert_digest?: string | undefined
  tags?: string[] | null | undefined
  created_at?: number | undefined
  updated_at?: number | undefined
}

export interface RouteEntity {
  id: string
  name?: string | undefined
  service?: Ref | null | undefined
  protocols: Protocol[]
  methods?: string[] | null | undefined
  hosts?: string[] | null | undefined
  paths?: string[] | null | undefined
  /** header name (lower-case) → accepted values; a value starting with `~*` is a regex */
  headers?: Record<string, string[]> | null | undefined
  snis?: string[] | null | undefined
  sources?: Array<{ ip?: string; port?: number }> | null | undefined
  destinations?: Array<{ ip?: string; port?: number }> | null | undefined
  regex_priority: number
  strip_path: boolean
  preserve_host: boolean
  path_handling: 'v0' | 'v1'
  https_redirect_status_code: 426 | 301 | 302 | 307 | 308
  request_buffering: boolean
  response_buffering: boolean
  tags?: string[] | null | undefined
  created_at?: number | undefined
  updated_at?: number | undefined
}

export interface ConsumerEntity {
  id: string
  username?: string | undefined
  custom_id?: string | undefined
  tags?: string[] | null | undefined
  created_at?: number | undefined
}

export interface KeyAuthCredentialEntity {
  id: string
  consumer: Ref
  key: string
  ttl?: number | null | undefined
  tags?: string[] | null | undefined
  created_at?: number | undefined
}

export type JwtAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'ES256'
  | 'ES384'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'EdDSA'

export interface JwtSecretEntity {
  id: string
  consumer: Ref
  /** matched against the token's `key_claim_name` claim (default `iss`) */
  key: string
  algorithm: JwtAlgorithm
  /** Portico: names this secret among its consumer's secrets under one `key` (rotation) */
  kid?: string | undefined
  secret?: string | undefined
  rsa_public_key?: string | undefined
  /** Portico: a JWKS document URL instead of a fixed key */
  jwks_uri?: string | undefined
  tags?: string[] | null | undefined
  created_at?: number | undefined
}

export interface BasicAuthCredentialEntity {
  id: string
  consumer: Ref
  username: string
  /** stored hashed (`scrypt$…`); plain text is hashed on load */
  password: string
  tags?: string[] | null | undefined
  created_at?: number | undefined
}

export interface AclEntity {
  id: string
  consumer: Ref
  group: string
  tags?: string[] | null | undefined
  created_at?: number | undefined
}

export interface PluginEntity {
  id: string
  name: string
  instance_name?: string | undefined
  /** validated and defaulted by the plugin's own schema */
  config: Record<string, unknown>
  enabled: boolean
  protocols: Protocol[]
  service?: Ref | null | undefined
  route?: Ref | null | undefined
  consumer?: Ref | null | undefined
  tags?: string[] | null | undefined
  created_at?: number | undefined
}

export interface HealthcheckActive {
  type: 'http' | 'https' | 'tcp'
  http_path: string
  timeout: number
  concurrency: number
  https_verify_certificate: boolean
  headers?: Record<string, string[]> | null | undefined
  healthy: { interval: number; successes: number; http_statuses: number[] }
  unhealthy: {
    interval: number
    http_failures: number
    tcp_failures: number
    timeouts: number
    http_statuses: number[]
  }
}

export interface HealthcheckPassive {
  type: 'http' | 'https' | 'tcp'
  healthy: { successes: number; http_statuses: number[] }
  unhealthy: { http_failures: number; tcp_failures: number; timeouts: number; http_statuses: number[] }
}

export interface UpstreamEntity {
  id: string
  name: string
  algorithm: 'round-robin' | 'consistent-hashing' | 'least-connections' | 'latency'
  hash_on: 'none' | 'consumer' | 'ip' | 'header' | 'cookie' | 'path' | 'query_arg' | 'uri_capture'
  hash_fallback: 'none' | 'consumer' | 'ip' | 'header' | 'cookie' | 'path' | 'query_arg' | 'uri_capture'
  hash_on_header?: string | null | undefined
  hash_fallback_header?: string | null | undefined
  hash_on_cookie?: string | null | undefined
  hash_on_cookie_path: string
  hash_on_query_arg?: string | null | undefined
  hash_fallback_query_arg?: string | null | undefined
  hash_on_uri_capture?: string | null | undefined
  hash_fallback_uri_capture?: string | null | undefined
  slots: number
  host_header?: string | null | undefined
  healthchecks: {
    active: HealthcheckActive
    passive: HealthcheckPassive
    threshold: number
  }
  tags?: string[] | null | undefined
  created_at?: number | undefined
}

export interface TargetEntity {
  id: string
  upstream: Ref
  /** `host:port` (port defaults to 8000 as in Kong) */
  target: string
  weight: number
  /** Portico: probe this path instead of the upstream's `http_path` (set by the service registry) */
  health_path?: string | undefined
  tags?: string[] | null | undefined
  /** seconds with a millisecond fraction, as Kong's auto_timestamp_ms */
  created_at?: number | undefined
  updated_at?: number | undefined
}

/** The whole configuration, flat. Order within each list is the order of definition. */
export interface ConfigDocument {
  services: ServiceEntity[]
  routes: RouteEntity[]
  consumers: ConsumerEntity[]
  keyauth_credentials: KeyAuthCredentialEntity[]
  jwt_secrets: JwtSecretEntity[]
  basicauth_credentials: BasicAuthCredentialEntity[]
  acls: AclEntity[]
  plugins: PluginEntity[]
  upstreams: UpstreamEntity[]
  targets: TargetEntity[]
  certificates: CertificateEntity[]
  snis: SniEntity[]
  ca_certificates: CaCertificateEntity[]
}

export function emptyDocument(): ConfigDocument {
  return {
    services: [],
    routes: [],
    consumers: [],
    keyauth_credentials: [],
    jwt_secrets: [],
    basicauth_credentials: [],
    acls: [],
    plugins: [],
    upstreams: [],
    targets: [],
    certificates: [],
    snis: [],
    ca_certificates: [],
  }
}

/** One validation problem, with the path of the offending field (`services[0].routes[1].paths[0]`). */
export interface ConfigIssue {
  path: string
  message: string
}
