/**
 * The resolved, per-service policy every layer reads: defaults applied, durations in
 * milliseconds, every switchable policy either a full object or `false` (off). The schema in
 * `schema.ts` parses user input (JSON/YAML/objects) into `MeshConfig`; `resolve.ts` merges the
 * precedence levels into one `ServicePolicy` per service. Layers never see raw config.
 */

import type { RetryCondition } from '../core/outcome.ts';
import type { RouteConfig } from './route-schema.ts';

/** What a retry may be triggered by: a transport failure kind or a status code (defined with the Outcome, in core). */
export type { RetryCondition };

export interface StaticEndpointSpec {
  /** `host:port` or `http(s)://host:port`. */
  readonly address: string;
  readonly weight: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
}

export type DiscoveryPolicy =
  | { readonly type: 'static'; readonly endpoints: readonly StaticEndpointSpec[] }
  | {
      readonly type: 'dns';
      readonly name: string;
      /** Port for A/AAAA answers; SRV answers carry their own. */
      readonly port: number | undefined;
      /** `a` (A/AAAA) or `srv`. */
      readonly record: 'a' | 'srv';
      /** Re-resolve period, ms. */
      readonly interval: number;
      readonly protocol: 'http' | 'https';
    }
  | {
      readonly type: 'consul';
      /** The name registered in Consul (default: the service's name in this config). */
      readonly service: string;
      /** Only instances carrying every one of these tags. */
      readonly tags: readonly string[];
      /** Only instances whose checks all pass (default true); false adds warning ones at their warning weight. */
      readonly passingOnly: boolean;
      /** Consul datacenter to query; undefined: the agent's own (or the `consul` option's). */
      readonly datacenter: string | undefined;
      /**
       * Route by Consul's service-router, service-splitter and service-resolver entries for this
       * service when it has no `routes` (default true; false opts out. The entries cost three
       * blocking queries per agent per process, not per service: routing/consul-entry-lists.ts).
       */
      readonly configEntries?: boolean;
    };

export type BalancerPolicy =
  | { readonly policy: 'p2c-ewma'; readonly decay: number }
  | { readonly policy: 'p2c-least-request' }
  | { readonly policy: 'round-robin' }
  | { readonly policy: 'random' }
  | {
      readonly policy: 'ring-hash';
      /** `header:<name>` or undefined (use the call's `hashKey`). */
      readonly hashOn: string | undefined;
      readonly minRingSize: number;
    };

export interface RetryBudgetPolicy {
  /** Retries allowed as a fraction of calls over the window (0.2 = 20%). */
  readonly ratio: number;
  /** Retries always allowed per second, so low-traffic services can still retry. */
  readonly minPerSecond: number;
  /** Window over which calls and retries are counted, ms. */
  readonly window: number;
}

export interface RetryPolicy {
  /** Total tries, the first included (2 = one retry). */
  readonly attempts: number;
  readonly backoff: { readonly base: number; readonly max: number };
  readonly on: readonly RetryCondition[];
  readonly budget: RetryBudgetPolicy | false;
  /** Largest Retry-After delay honoured, ms; longer ones end the retries. */
  readonly maxRetryAfter: number;
}

export interface HedgePolicy {
  /** A fixed delay in ms, or a latency percentile (0-100) observed for this service. */
  readonly after: { readonly delay: number } | { readonly percentile: number };
  /** Hedged attempts allowed as a fraction of calls. */
  readonly maxExtraLoad: number;
  /** Most attempts in flight at once for one call, the first included. */
  readonly maxAttempts: number;
}

export interface BreakerPolicy {
  readonly errorRate: number;
  readonly minRequests: number;
  readonly window: number;
  readonly openFor: number;
}

export interface OutlierPolicy {
  readonly consecutiveFailures: number;
  readonly ejectFor: number;
  /** Ejection time cap as repeats grow it. */
  readonly maxEjectFor: number;
  readonly maxEjectedPercent: number;
  /** Below this percentage of healthy endpoints, ignore health and use them all (Envoy's panic threshold). */
  readonly panicThreshold: number;
  /**
   * While ejected, one idempotent call this often (doubled like the ejection time) tries the
   * endpoint, and a success re-admits it before `ejectFor` ends; false waits out `ejectFor`.
   */
  readonly probeInterval: number | false;
}

export interface RateLimitPolicy {
  readonly rps: number;
  readonly burst: number;
  readonly scope: 'local' | 'global';
  /** Redis URL for global limits. */
  readonly redis: string | undefined;
}

export type ConcurrencyPolicy =
  | { readonly adaptive: false; readonly max: number; readonly queue: number; readonly queueTimeout: number }
  | {
      readonly adaptive: true;
      readonly initial: number;
      readonly min: number;
      readonly max: number;
    };

export interface TlsPolicy {
  /** PEM contents (files are read at resolve time). */
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly servername: string | undefined;
  readonly rejectUnauthorized: boolean;
}

export interface FaultPolicy {
  readonly abort: { readonly percent: number; readonly status: number } | false;
  readonly delay: { readonly percent: number; readonly duration: number } | false;
}

export interface PoolPolicy {
  /** Connections per endpoint. */
  readonly connections: number;
  readonly keepAliveTimeout: number;
  readonly connectTimeout: number;
}

/** A named selection of the service's endpoints: every tag and every meta pair must be on an endpoint. */
export interface SubsetPolicy {
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
}

/** Where a route sends calls: a service (this one unless named) and optionally one of its subsets. */
export interface RouteTargetPolicy {
  readonly service: string;
  readonly subset: string | undefined;
}

export interface RoutePolicy {
  /** `route-<index>` when the author gave none. */
  readonly name: string;
  /** As written (route-match.ts's RouteMatchSpec); `{}` matches every call. */
  readonly match: NonNullable<RouteConfig['match']>;
  /** Percentages summing to 100. */
  readonly to: readonly (RouteTargetPolicy & { readonly weight: number })[];
  /** Overrides of the service's timeout, perTryTimeout, retry tries and conditions; undefined keeps the service's. */
  readonly timeout: number | undefined;
  readonly perTryTimeout: number | undefined;
  readonly retry: { readonly attempts: number; readonly on: readonly RetryCondition[] } | undefined;
  /** Tried in order when a target's subset has no healthy endpoint. */
  readonly failover: readonly RouteTargetPolicy[];
}

export interface ServicePolicy {
  readonly name: string;
  readonly discovery: DiscoveryPolicy;
  readonly balancer: BalancerPolicy;
  /** Total deadline for the call, all attempts included, ms; false: none. */
  readonly timeout: number | false;
  readonly perTryTimeout: number | false;
  readonly retry: RetryPolicy | false;
  readonly hedge: HedgePolicy | false;
  readonly breaker: BreakerPolicy | false;
  readonly outlier: OutlierPolicy | false;
  readonly rateLimit: RateLimitPolicy | false;
  readonly concurrency: ConcurrencyPolicy | false;
  readonly tls: TlsPolicy | undefined;
  readonly fault: FaultPolicy | false;
  readonly pool: PoolPolicy;
  readonly subsets: Readonly<Record<string, SubsetPolicy>>;
  /** In order, first match wins; empty: the service is not routed (no router in its calls' path). */
  readonly routes: readonly RoutePolicy[];
}
