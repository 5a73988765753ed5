/**
 * meshlet's route model: what a service's routing IS once its sources are read, whether they
 * are meshlet's own `routes`/`subsets` or Consul's service-router, service-splitter and
 * service-resolver entries (consul-entries.ts). Everything downstream reads only this.
 *
 * How integration will work (DESIGN §2, issue 11):
 * - Where the router sits: first in a logical call, below telemetry and above the deadline, so
 *   that the route chosen can bring its own `timeout`, `perTryTimeout` and `retry` (Envoy's
 *   route and Consul's router destination carry them; a deadline or retry layer built before
 *   the route is known could not honour them). The routing layer holds one Router per service
 *   snapshot (router.ts): `select` matches the request (first match wins), the route's `pick`
 *   draws a target from its WeightedSplit, both allocating nothing; it then applies the route's
 *   path rewrite and header changes and calls that target's stack. Telemetry records the route `name` and the target served, never the raw
 *   path (bounded cardinality).
 * - Per route target, a stack: deadline → admission → breaker → retry/hedge → per-attempt layers
 *   → balancer, built from the service policy merged with the route's overrides. Built when
 *   the config is applied, never per call; routes with the same overrides and target share one.
 * - Shared per service, not per route: the EndpointSet (endpoints, load statistics, outlier
 *   ejection), the retry budget, the breaker, rate and concurrency limits. A target's balancer
 *   balances over a filtered view of that set: the endpoints its subset (subset.ts) selects,
 *   recomputed when membership changes, so EWMAs and ejections carry across subsets.
 * - Failover: a target whose subset has no healthy endpoint is served by the next entry of its
 *   resolution's `failover` list (the subset's own, else `*`), reported through telemetry only.
 * - A route set is one immutable snapshot: a pushed change builds a new RouteMatcher and stacks
 *   and swaps them atomically; calls in flight finish on the snapshot they started with.
 * - Anything a source asks for that meshlet cannot do exactly is in `unsupported`, with its field
 *   path: shown in `state()` and raised as a config-rejected-style event, never approximated.
 */
import type { BalancerPolicy, RetryCondition } from '../config/policy.ts';
import type { RouteMatchSpec } from './route-match.ts';
import type { SubsetSpec } from './subset.ts';
import type { ScaledTarget } from './weighted-split.ts';

/** Where a split sends a call: a service (this one or another), optionally one of its subsets. */
export interface TargetRef {
  readonly service: string;
  /** Undefined: the service's default subset (its resolution's `defaultSubset`, else every endpoint). */
  readonly subset: string | undefined;
}

/** Header changes, applied in Envoy's order: remove, then set (replace), then add (append). */
export interface HeaderModifiers {
  readonly add: Readonly<Record<string, string>>;
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

export interface RouteTarget extends TargetRef {
  /** A split's own header changes (Consul splits carry them), after the route's. */
  readonly requestHeaders: HeaderModifiers | undefined;
  readonly responseHeaders: HeaderModifiers | undefined;
}

export interface RouteRetry {
  /** Total tries, the first included (meshlet's `attempts`). */
  readonly attempts: number;
  readonly on: readonly RetryCondition[];
}

export interface RouteDefinition {
  /** Telemetry and state() label: bounded, never derived from the request. */
  readonly name: string;
  /** `{}` matches every call (the catch-all). */
  readonly match: RouteMatchSpec;
  /** Scaled weights summing to 10000 (weighted-split.ts). */
  readonly targets: readonly ScaledTarget<RouteTarget>[];
  /** Overrides of the service policy for this route; undefined keeps the service's. */
  readonly timeout: number | undefined;
  readonly perTryTimeout: number | undefined;
  readonly retry: RouteRetry | undefined;
  /** Replaces the matched path prefix (or the exact path) before sending. */
  readonly prefixRewrite: string | undefined;
  readonly requestHeaders: HeaderModifiers | undefined;
  readonly responseHeaders: HeaderModifiers | undefined;
  /**
   * meshlet routes' own `failover`: tried in order, before the resolution's, when a target's
   * subset has no healthy endpoint. Consul's router has none (its failover is the resolver's).
   */
  readonly failover?: readonly TargetRef[];
}

/** How one service's endpoints are chosen: Consul's resolver, or meshlet's `subsets`. */
export interface ServiceResolution {
  readonly service: string;
  readonly subsets: Readonly<Record<string, SubsetSpec>>;
  readonly defaultSubset: string | undefined;
  /** Keyed by subset name, `''` for the default subset, `*` for any; tried in order. */
  readonly failover: Readonly<Record<string, readonly TargetRef[]>>;
  /** ms; Consul's compiled default is 5s. */
  readonly connectTimeout: number;
  /** ms; undefined: the service's own timeout. */
  readonly requestTimeout: number | undefined;
  /** Undefined: the service's configured balancer. */
  readonly balancer: BalancerPolicy | undefined;
}

/** A field meshlet read but cannot honour exactly. */
export interface UnsupportedItem {
  /** e.g. `service-resolver/web.Failover.v2.Datacenters`. */
  readonly path: string;
  readonly reason: string;
}

export interface RoutingModel {
  /** The service whose calls these routes serve. */
  readonly service: string;
  /** In order; the last is a catch-all, so every call has a route. */
  readonly routes: readonly RouteDefinition[];
  /** Every service a target names, with how its endpoints are chosen. */
  readonly resolutions: Readonly<Record<string, ServiceResolution>>;
  readonly unsupported: readonly UnsupportedItem[];
}
