/**
 * What a route may name only once every level is merged: a target's service must be in the
 * config, and a subset it names must be one that service defines (its subsets may come from
 * the bootstrap and its routes from the control store). One issue per bad reference, at the
 * field that names it (`services.payments.routes.0.to.1.subset`).
 */
import type { ConfigIssue } from '../core/errors.ts';
import type { RouteTargetPolicy, ServicePolicy } from './policy.ts';

export function routeTargetIssues(services: ReadonlyMap<string, ServicePolicy>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, policy] of services) {
    policy.routes.forEach((route, r) => {
      const at = `services.${name}.routes.${r}`;
      route.to.forEach((target, t) => {
        checkTarget(services, name, target, `${at}.to.${t}`, issues);
      });
      route.failover.forEach((target, f) => {
        checkTarget(services, name, target, `${at}.failover.${f}`, issues);
      });
    });
  }
  return issues;
}

function checkTarget(services: ReadonlyMap<string, ServicePolicy>, owner: string, target: RouteTargetPolicy, at: string, issues: ConfigIssue[]): void {
  const service = services.get(target.service);
  if (service === undefined) {
    issues.push({ path: `${at}.service`, message: `no service "${target.service}" in the config; route to one of: ${[...services.keys()].join(', ')}` });
    return;
  }
  if (target.subset === undefined || Object.hasOwn(service.subsets, target.subset)) return;
  const known = Object.keys(service.subsets);
  const whose = target.service === owner ? 'this service' : `service "${target.service}"`;
  issues.push({
    path: `${at}.subset`,
    message: `no subset "${target.subset}" in ${whose}; ${known.length === 0 ? `define it under services.${target.service}.subsets` : `known subsets: ${known.join(', ')}`}`,
  });
}
