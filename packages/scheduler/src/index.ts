/** Per-scanner circuit breakers shared through the scheduler's store. */
export * as CircuitBreaker from "./CircuitBreaker.js"
/** Named scan credentials and inline credentials sealed with AES-256-GCM. */
export * as Credentials from "./Credentials.js"
/** Periodic and on-demand housekeeping: TTL expiry, stale scans, scanner cleanup through a janitor. */
export * as Housekeeping from "./Housekeeping.js"
/** The Redis connection (ioredis) the Redis backend runs on. */
export * as Redis from "./Redis.js"
/** Retry policy as Schedules; transient vs permanent failures. */
export * as Retry from "./Retry.js"
/** The scanners file: pools, scanners, named credentials; reload. */
export * as ScannerConfig from "./ScannerConfig.js"
/** The scheduler service: submit, claim, lease, complete, fail, DLQ, circuits; Redis and memory backends. */
export * as Scheduler from "./Scheduler.js"
/** The one tagged error of the package. */
export * as SchedulerError from "./SchedulerError.js"
/** Scan targets: parsing, expansion count, allowed containment, overlap matching. */
export * as Targets from "./Targets.js"
/** Task ids, states, phases, transitions and views. */
export * as Task from "./Task.js"
