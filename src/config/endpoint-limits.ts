/**
 * The limits on how many endpoints a config may give (limits.ts): per service and in total.
 * A config's text size says little about what it costs: one list shared by a hundred
 * services is a hundred lists of endpoints. Checked twice with the same rule: on each
 * document before its endpoints are parsed (so a config far over the limit is refused
 * cheaply), and on the merged policies, where bootstrap and control add up.
 */
import type { ConfigIssue } from '../core/errors.ts';
import { configInvalid } from './config-error.ts';
import { MAX_ENDPOINTS_PER_SERVICE, MAX_ENDPOINTS_TOTAL } from './limits.ts';
import type { ServicePolicy } from './policy.ts';

/** An endpoint count over a limit; `service` is undefined for the total. */
export interface EndpointCountIssue {
  readonly service: string | undefined;
  readonly message: string;
}

/** Issues for each service over MAX_ENDPOINTS_PER_SERVICE and for a total over MAX_ENDPOINTS_TOTAL. */
export function endpointCountIssues(counts: Iterable<readonly [service: string, count: number]>): EndpointCountIssue[] {
  const issues: EndpointCountIssue[] = [];
  let total = 0;
  let services = 0;
  for (const [service, count] of counts) {
    total += count;
    services++;
    if (count <= MAX_ENDPOINTS_PER_SERVICE) continue;
    issues.push({
      service,
      message: `${count} endpoints; the limit is ${MAX_ENDPOINTS_PER_SERVICE} endpoints per service (each one may hold a connection pool in every client): list fewer, or split the service`,
    });
  }
  if (total > MAX_ENDPOINTS_TOTAL) {
    issues.push({
      service: undefined,
      message: `${total} endpoints across ${services} services; the limit is ${MAX_ENDPOINTS_TOTAL} endpoints in one mesh config (each one may hold a connection pool): list fewer`,
    });
  }
  return issues;
}

/** The length of each static `endpoints` list in an unvalidated `services` object. */
export function documentEndpointCounts(services: unknown): [string, number][] {
  if (typeof services !== 'object' || services === null || Array.isArray(services)) return [];
  const counts: [string, number][] = [];
  for (const [name, entry] of Object.entries(services)) {
    const endpoints = typeof entry === 'object' && entry !== null ? (entry as { endpoints?: unknown }).endpoints : undefined;
    if (Array.isArray(endpoints)) counts.push([name, endpoints.length]);
  }
  return counts;
}

/** Throws MESH_CONFIG_INVALID, naming the limit, when the merged policies give too many endpoints. */
export function assertEndpointLimits(policies: ReadonlyMap<string, ServicePolicy>): void {
  const counts: [string, number][] = [];
  for (const [name, policy] of policies) {
    if (policy.discovery.type === 'static') counts.push([name, policy.discovery.endpoints.length]);
  }
  const issues: ConfigIssue[] = endpointCountIssues(counts).map((issue) => ({
    path: issue.service === undefined ? 'services' : `services.${issue.service}.endpoints`,
    message: issue.message,
  }));
  if (issues.length > 0) throw configInvalid(issues, 'The merged mesh config');
}
