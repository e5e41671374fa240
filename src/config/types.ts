// The entity model lives in core (every layer shares it); config re-exports it for its users.
export * from '../core/entities.js'
