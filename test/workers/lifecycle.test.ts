import { lifecycleSuite } from '../fixtures/workers-lifecycle.js'

// Point 5 of "one node on every core", with 2 workers as real processes: a crashed worker is
// replaced while the others serve, SIGUSR2 replaces every worker with no failed request under
// load, SIGTERM drains every worker and the node exits 0 (test/fixtures/workers-lifecycle.ts).
lifecycleSuite(2)
