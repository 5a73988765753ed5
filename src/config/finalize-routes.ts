/**
 * A service's validated `subsets` and `routes` as the policy carries them: every default filled
 * in (a route's name, a target's service, a lone target's weight, the retry fields a route left
 * to the service), so the routing translator (routing/from-config.ts) reads no config rules.
 */
import { DEFAULT_RETRY } from './defaults.ts';
import type { RetryPolicy, RoutePolicy, SubsetPolicy } from './policy.ts';
import type { RouteConfig, SubsetsConfig } from './route-schema.ts';

export function finalizeSubsets(subsets: SubsetsConfig | undefined): Record<string, SubsetPolicy> {
  const result: Record<string, SubsetPolicy> = {};
  for (const [name, spec] of Object.entries(subsets ?? {})) result[name] = { tags: spec.tags ?? [], meta: { ...spec.meta } };
  return result;
}

export function finalizeRoutes(service: string, routes: readonly RouteConfig[] | undefined, retry: RetryPolicy | false): RoutePolicy[] {
  // A route's retry fields it leaves out are the service's, or the built-in ones when the service's retries are off.
  const base = retry === false ? DEFAULT_RETRY : retry;
  return (routes ?? []).map((route, index) => ({
    name: route.name ?? `route-${index}`,
    match: route.match ?? {},
    to: route.to.map((t) => ({ service: t.service ?? service, subset: t.subset, weight: t.weight ?? 100 })),
    timeout: route.timeout,
    perTryTimeout: route.perTryTimeout,
    retry: route.retry === undefined ? undefined : { attempts: route.retry.attempts ?? base.attempts, on: route.retry.on ?? base.on },
    failover: (route.failover ?? []).map((t) => ({ service: t.service ?? service, subset: t.subset })),
  }));
}
