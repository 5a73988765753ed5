/**
 * meshlet's own `routes` and `subsets` (a resolved ServicePolicy) to the route model
 * (route-types.ts), the one shape the runtime reads whatever the routing came from. The policy
 * is already validated (config/route-schema.ts, config/route-checks.ts), so this only
 * translates: weights to Consul's scaled units, targets to TargetRefs, every service a target
 * or failover names to its resolution (its subsets). A table that does not end in a catch-all
 * gets the implicit default route Consul's chain compiler adds: every other call goes to the
 * service itself.
 */
import type { RoutePolicy, RouteTargetPolicy, ServicePolicy } from '../config/policy.ts';
import type { RouteDefinition, RouteTarget, RoutingModel, ServiceResolution, TargetRef } from './route-types.ts';
import { SPLIT_SCALE, scaleWeight } from './weighted-split.ts';

/** The name of the implicit catch-all route (shown in state()). */
export const DEFAULT_ROUTE_NAME = 'default';

/**
 * The other services a service's routes send to (targets and failovers): its routing is built
 * from their subsets and endpoints too, so it must be rebuilt when one of them changes.
 */
export function servicesRoutedTo(policy: ServicePolicy): string[] {
  const named = policy.routes.flatMap((route) => [...route.to, ...route.failover].map((t) => t.service));
  return [...new Set(named)].filter((service) => service !== policy.name);
}

/** Undefined when the service has no routes: it is not routed and its calls take no routing step. */
export function routingModelFromConfig(policy: ServicePolicy, services: ReadonlyMap<string, ServicePolicy>): RoutingModel | undefined {
  if (policy.routes.length === 0) return undefined;
  const routes = policy.routes.map(toDefinition);
  const last = routes[routes.length - 1]!;
  if (Object.keys(last.match).length > 0) routes.push(defaultRoute(policy.name));
  const resolutions: Record<string, ServiceResolution> = {};
  const named = routes.flatMap((route) => [...route.targets.map((t) => t.target.service), ...(route.failover ?? []).map((t) => t.service)]);
  for (const service of new Set(named)) resolutions[service] = resolutionOf(services.get(service) ?? policy);
  return { service: policy.name, routes, resolutions, unsupported: [] };
}

function toDefinition(route: RoutePolicy): RouteDefinition {
  return {
    name: route.name,
    match: route.match,
    targets: route.to.map((t) => ({ target: toTarget(t), scaled: scaleWeight(t.weight) })),
    timeout: route.timeout,
    perTryTimeout: route.perTryTimeout,
    retry: route.retry,
    prefixRewrite: undefined,
    requestHeaders: undefined,
    responseHeaders: undefined,
    failover: route.failover.map(toRef),
  };
}

function defaultRoute(service: string): RouteDefinition {
  return {
    name: DEFAULT_ROUTE_NAME,
    match: {},
    targets: [{ target: toTarget({ service, subset: undefined }), scaled: SPLIT_SCALE }],
    timeout: undefined,
    perTryTimeout: undefined,
    retry: undefined,
    prefixRewrite: undefined,
    requestHeaders: undefined,
    responseHeaders: undefined,
  };
}

function toRef(target: RouteTargetPolicy): TargetRef {
  return { service: target.service, subset: target.subset };
}

function toTarget(target: RouteTargetPolicy): RouteTarget {
  return { ...toRef(target), requestHeaders: undefined, responseHeaders: undefined };
}

/** meshlet's subsets select by tags and meta; failover is per route, so the resolution has none. */
function resolutionOf(policy: ServicePolicy): ServiceResolution {
  return {
    service: policy.name,
    subsets: policy.subsets,
    defaultSubset: undefined,
    failover: {},
    connectTimeout: policy.pool.connectTimeout,
    requestTimeout: undefined,
    balancer: undefined,
  };
}
