/**
 * A service's compiled router: the RouteMatcher over its routes and a WeightedSplit per route,
 * built once from a RoutingModel (route-types.ts) and held by the service's stack for as long
 * as that snapshot serves. A decision is two steps, both allocation-free: `select` finds the
 * route (first match), `pick` on the route draws its target. Every model ends in a catch-all,
 * so `select` always finds one; a router without one refuses to build.
 */
import { RouteMatcher, type MatchableRequest } from './route-match.ts';
import type { RouteDefinition, RouteTarget, RoutingModel } from './route-types.ts';
import { WeightedSplit } from './weighted-split.ts';
import type { IntegerDraw } from './xorshift-random.ts';

export interface CompiledRoute {
  readonly definition: RouteDefinition;
  /** Draws the target a call on this route goes to. */
  pick(draw: IntegerDraw): RouteTarget;
}

export class Router {
  readonly service: string;
  readonly routes: readonly CompiledRoute[];
  readonly #matcher: RouteMatcher<CompiledRoute>;

  /** Throws MESH_CONFIG_INVALID when a route's match cannot be compiled (its path names the route). */
  constructor(model: Pick<RoutingModel, 'service' | 'routes'>) {
    this.service = model.service;
    this.routes = model.routes.map((definition) => {
      const split = new WeightedSplit(definition.targets);
      return { definition, pick: (draw: IntegerDraw) => split.pick(draw) };
    });
    const last = model.routes[model.routes.length - 1];
    if (last === undefined || Object.keys(last.match).length > 0) {
      throw new RangeError(`the routes of '${model.service}' must end in a catch-all route (match {}), so every call has one`);
    }
    this.#matcher = new RouteMatcher(
      this.routes.map((route) => ({ match: route.definition.match, value: route })),
      `services.${model.service}.routes`,
    );
  }

  /** The route this call takes. Allocates nothing. */
  select(request: MatchableRequest): CompiledRoute {
    return this.#matcher.match(request)!;
  }
}
