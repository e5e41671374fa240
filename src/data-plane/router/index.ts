export { normalizePath } from './normalize.js'
export { buildRouter } from './router.js'
export type { RouteMatch, Router, RouterEntry } from './types.js'
