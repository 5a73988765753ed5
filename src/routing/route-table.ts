/**
 * A routed service's routing step: the Router (route match, then the route's weighted split)
 * and the stack each target of each route is served by, built when the config is applied. One
 * decision per logical call, made before the call's deadline is computed (a route may set its
 * own timeout): `route` returns the target's stack and the policy it was built from. It
 * allocates nothing: the match and the draw are allocation-free (router.ts), the target's stack
 * is found in a Map by the target object the split returns, and counting is an increment.
 *
 * state() shows each route's name, its targets, their weights and the calls each took: labels
 * and numbers only, never a request's path (bounded cardinality).
 */
import type { MatchableRequest } from './route-match.ts';
import type { RouteTarget } from './route-types.ts';
import type { Router } from './router.ts';
import { SPLIT_SCALE } from './weighted-split.ts';
import { type IntegerDraw, xorshiftDraw } from './xorshift-random.ts';

/** What a target is served by (the runtime's stack and its merged policy), plus what state() shows of it. */
export interface TargetServing<T> {
  readonly served: T;
  /** Where its calls go now (the subset view's serving entry); null when no endpoint. */
  servedBy(): string | null;
  /** Attempts (tries) a failover entry of this target served. */
  failoverPicks(): number;
}

interface TargetEntry<T> {
  readonly serving: TargetServing<T>;
  calls: number;
}

export class RouteTable<T> {
  readonly #router: Router;
  readonly #entries: Map<RouteTarget, TargetEntry<T>>;
  readonly #draw: IntegerDraw;

  /** `serve` gives each target of each route its serving, once (the caller shares them between equal targets). */
  constructor(router: Router, serve: (target: RouteTarget, routeIndex: number) => TargetServing<T>, draw: IntegerDraw = xorshiftDraw(SPLIT_SCALE)) {
    this.#router = router;
    this.#draw = draw;
    this.#entries = new Map();
    router.routes.forEach((route, index) => {
      for (const { target } of route.definition.targets) {
        // NOTE: a split returns its target object, which finds the target's stack; one object in
        // two routes (or twice in one) would serve both with one route's stack and policy.
        if (this.#entries.has(target)) throw new RangeError(`route '${route.definition.name}' of '${router.service}' shares a target object with another route: each route target must be its own object`);
        this.#entries.set(target, { serving: serve(target, index), calls: 0 });
      }
    });
  }

  /** The served target of this call. */
  route(request: MatchableRequest): T {
    const target = this.#router.select(request).pick(this.#draw);
    const entry = this.#entries.get(target)!;
    entry.calls++;
    return entry.serving.served;
  }

  state(): unknown[] {
    return this.#router.routes.map((route) => ({
      name: route.definition.name,
      targets: route.definition.targets.map(({ target, scaled }) => {
        const entry = this.#entries.get(target)!;
        return {
          service: target.service,
          subset: target.subset ?? null,
          weight: (scaled * 100) / SPLIT_SCALE,
          calls: entry.calls,
          servedBy: entry.serving.servedBy(),
          failoverAttempts: entry.serving.failoverPicks(),
        };
      }),
    }));
  }
}
