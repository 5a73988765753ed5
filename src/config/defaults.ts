/**
 * Built-in defaults (DESIGN §3 "Defaults"), the lowest precedence level. `BUILT_IN` is the
 * state every service starts from; `WHEN_ON` holds the values a switchable policy takes when
 * a level turns it on (`true`, or a partial object over a policy that was off), so
 * `breaker: {openFor: "1s"}` means "breaker on, opossum's usual values, openFor 1s".
 */
import type {
  BalancerPolicy,
  BreakerPolicy,
  ConcurrencyPolicy,
  HedgePolicy,
  OutlierPolicy,
  PoolPolicy,
  RetryBudgetPolicy,
  RetryPolicy,
} from './policy.ts';

/** Finagle, Linkerd and Envoy agree on a 20% budget with a floor of 10 retries a second. */
export const DEFAULT_RETRY_BUDGET: RetryBudgetPolicy = { ratio: 0.2, minPerSecond: 10, window: 10_000 };

/** Two tries (one retry) on failures that are safe to retry for idempotent calls. */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 2,
  backoff: { base: 25, max: 250 },
  on: ['connect-error', 'reset', '502', '503', '504'],
  budget: DEFAULT_RETRY_BUDGET,
  maxRetryAfter: 1000,
};

/** Opossum's semantics; off until configured. */
export const DEFAULT_BREAKER: BreakerPolicy = { errorRate: 0.5, minRequests: 20, window: 10_000, openFor: 5000 };

export const DEFAULT_OUTLIER: OutlierPolicy = {
  consecutiveFailures: 5,
  ejectFor: 30_000,
  maxEjectFor: 300_000,
  maxEjectedPercent: 50,
  panicThreshold: 50,
  // Finagle probes a node marked dead after 5-10 s; a restarted instance should be back in
  // seconds, not after a 30 s ejection. A dead one costs one retried idempotent call per probe.
  probeInterval: 2_000,
};

/** Hedge at the observed p95, adding at most 5% load (The Tail at Scale). */
export const DEFAULT_HEDGE: HedgePolicy = { after: { percentile: 95 }, maxExtraLoad: 0.05, maxAttempts: 2 };

export const DEFAULT_FIXED_CONCURRENCY = { adaptive: false, queue: 0, queueTimeout: 1000 } as const;

/** Netflix concurrency-limits' starting point for an adaptive limit. */
export const DEFAULT_ADAPTIVE_CONCURRENCY: ConcurrencyPolicy = { adaptive: true, initial: 20, min: 1, max: 1000 };

/** Below Node's 5s server keep-alive so the client closes idle sockets first. */
export const DEFAULT_POOL: PoolPolicy = { connections: 64, keepAliveTimeout: 4000, connectTimeout: 2000 };

export const DEFAULT_BALANCERS: Readonly<Record<BalancerPolicy['policy'], BalancerPolicy>> = {
  'p2c-ewma': { policy: 'p2c-ewma', decay: 10_000 },
  'p2c-least-request': { policy: 'p2c-least-request' },
  'round-robin': { policy: 'round-robin' },
  random: { policy: 'random' },
  'ring-hash': { policy: 'ring-hash', hashOn: undefined, minRingSize: 1024 },
};

export const DEFAULT_DNS = { record: 'a', interval: 30_000, protocol: 'http' } as const;

export const DEFAULT_CONSUL = { tags: [], passingOnly: true } as const;

/** What each discovery type starts from when a level switches to it. */
export const DEFAULT_DISCOVERY = { dns: DEFAULT_DNS, consul: DEFAULT_CONSUL } as const;

/** The state every service starts from, before any config level applies. */
export const BUILT_IN = {
  balancer: DEFAULT_BALANCERS['p2c-ewma'],
  timeout: 10_000,
  perTryTimeout: false,
  retry: DEFAULT_RETRY,
  hedge: false,
  breaker: false,
  outlier: DEFAULT_OUTLIER,
  rateLimit: false,
  concurrency: false,
  tls: false,
  fault: false,
  pool: DEFAULT_POOL,
} as const;

/** Values a switchable policy starts from when a level turns it on. */
export const WHEN_ON: Readonly<Record<string, unknown>> = {
  retry: { ...DEFAULT_RETRY, budget: DEFAULT_RETRY_BUDGET },
  hedge: DEFAULT_HEDGE,
  breaker: DEFAULT_BREAKER,
  outlier: DEFAULT_OUTLIER,
  rateLimit: { scope: 'local' },
  tls: { rejectUnauthorized: true },
  fault: { abort: false, delay: false },
};

/** Nested switchables: values when turned on inside their parent. */
export const NESTED_WHEN_ON: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  retry: { budget: DEFAULT_RETRY_BUDGET },
  fault: { abort: { status: 503 }, delay: {} },
};
