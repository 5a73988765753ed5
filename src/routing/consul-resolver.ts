/**
 * One Consul `service-resolver` entry (JSON as `/v1/config/service-resolver/<name>` returns it,
 * CONSUL.md §3.5) to meshlet's ServiceResolution: subsets by bexpr filter, default subset,
 * redirect, failover, timeouts and the load-balancer policy. Consul's validation runs first with
 * its own error strings (DCSTRUCT `Validate`); then every field meshlet cannot honour exactly
 * (other datacenters, peers, namespaces, sameness groups, cookie or source-IP hashing, several
 * hash policies, a filter on fields endpoints do not keep…) becomes an UnsupportedItem.
 * No entry means Consul's default resolver: every healthy instance, ConnectTimeout 5s.
 */
import type { BalancerPolicy } from '../config/policy.ts';
import { compileBexpr } from './bexpr.ts';
import { ENDPOINT_FIELDS } from './bexpr-fields.ts';
import { goDurationToMs } from './go-duration.ts';
import type { ServiceResolution, TargetRef, UnsupportedItem } from './route-types.ts';
import type { SubsetSpec } from './subset.ts';

/** Consul's compiled-chain default (virtual-admin-1 capture: `"ConnectTimeout":"5s"`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/**
 * DCSTRUCT: "If unspecified, defaults to 15 seconds". NOTE: that is Envoy's route default; in
 * meshlet an unset RequestTimeout leaves the service's own `timeout` (or meshlet's 10 s default)
 * in force, so a resolver that does not mention a timeout never replaces the one configured.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const LB_POLICIES = ['', 'random', 'round_robin', 'least_request', 'ring_hash', 'maglev'];
/** Fields outside the local datacenter, partition and namespace, which meshlet does not reach. */
const ELSEWHERE = ['Namespace', 'Partition', 'Datacenter', 'Peer', 'SamenessGroup'] as const;

export type Json = Record<string, unknown>;

export interface ResolverTranslation {
  readonly resolution: ServiceResolution;
  /** Set when the resolver redirects: every target of this service goes there instead. */
  readonly redirect: TargetRef | undefined;
  /** Consul's own validation errors (the entry is invalid, as Consul itself would say). */
  readonly errors: readonly string[];
  readonly unsupported: readonly UnsupportedItem[];
}

export function translateResolver(service: string, entry: Json | undefined): ResolverTranslation {
  const at = `service-resolver/${service}`;
  const errors: string[] = [];
  const unsupported: UnsupportedItem[] = [];
  const notHonoured = (field: string, reason: string): void => {
    unsupported.push({ path: `${at}.${field}`, reason });
  };
  if (entry === undefined) return { resolution: defaultResolution(service), redirect: undefined, errors, unsupported };

  const subsets: Record<string, SubsetSpec> = {};
  for (const [name, raw] of Object.entries(asJson(entry.Subsets) ?? {})) {
    const subset = asJson(raw) ?? {};
    if (name === '') errors.push('Subset defined with empty name');
    const filter = typeof subset.Filter === 'string' ? subset.Filter : '';
    let unevaluable = false;
    if (filter !== '') {
      const full = compileBexpr(filter);
      if (!full.ok) errors.push(`Filter for subset ${JSON.stringify(name)} is not a valid expression: ${full.message}`);
      else if (!compileBexpr(filter, ENDPOINT_FIELDS).ok) {
        unevaluable = true;
        notHonoured(`Subsets.${name}.Filter`, `selects on ${full.selectors.filter((s) => !compileBexpr(`${s} is empty`, ENDPOINT_FIELDS).ok).join(', ')}, which endpoints do not keep (only Service.Tags, Service.Meta, Service.Address, Service.Port, Service.Weights.Passing); the subset selects no endpoint`);
      }
    }
    subsets[name] = unevaluable ? { filter, onlyPassing: subset.OnlyPassing === true, unevaluable: true } : { filter, onlyPassing: subset.OnlyPassing === true };
  }
  const defaultSubset = typeof entry.DefaultSubset === 'string' && entry.DefaultSubset !== '' ? entry.DefaultSubset : undefined;
  if (defaultSubset !== undefined && !Object.hasOwn(subsets, defaultSubset)) errors.push(`DefaultSubset ${JSON.stringify(defaultSubset)} is not a valid subset`);

  const redirectEntry = asJson(entry.Redirect);
  let redirect: TargetRef | undefined;
  if (redirectEntry !== undefined) {
    if (asJson(entry.Failover) !== undefined && Object.keys(asJson(entry.Failover)!).length > 0) errors.push('Redirect and Failover cannot both be set');
    const targetService = str(redirectEntry.Service);
    const targetSubset = str(redirectEntry.ServiceSubset);
    if (Object.values(redirectEntry).every((v) => v === '' || v === undefined || v === null)) errors.push('Redirect is empty');
    if (targetSubset !== undefined && targetService === undefined) errors.push('Redirect.ServiceSubset defined without Redirect.Service');
    for (const field of ELSEWHERE) if (str(redirectEntry[field]) !== undefined) notHonoured(`Redirect.${field}`, `redirects outside this datacenter/partition/namespace, which meshlet does not reach`);
    redirect = { service: targetService ?? service, subset: targetSubset };
    if (redirect.service === service && targetSubset !== undefined && !Object.hasOwn(subsets, targetSubset)) {
      errors.push(`Redirect.ServiceSubset ${JSON.stringify(targetSubset)} is not a valid subset of ${JSON.stringify(service)}`);
    }
  }

  const failover: Record<string, TargetRef[]> = {};
  for (const [key, raw] of Object.entries(asJson(entry.Failover) ?? {})) {
    const rule = asJson(raw) ?? {};
    const field = `Failover.${key}`;
    const targets = Array.isArray(rule.Targets) ? rule.Targets.map((t) => asJson(t) ?? {}) : [];
    const datacenters = Array.isArray(rule.Datacenters) ? rule.Datacenters : [];
    if (str(rule.Service) === undefined && str(rule.ServiceSubset) === undefined && str(rule.Namespace) === undefined && targets.length === 0 && datacenters.length === 0) {
      errors.push(`Bad Failover[${JSON.stringify(key)}]: one of Service, ServiceSubset, Namespace, Targets, or Datacenters is required`);
    }
    if (key !== '*' && !Object.hasOwn(subsets, key)) errors.push(`Bad Failover[${JSON.stringify(key)}]: not a valid subset`);
    if (datacenters.length > 0) notHonoured(`${field}.Datacenters`, 'fails over to other datacenters, which meshlet does not reach');
    if (str(rule.Namespace) !== undefined) notHonoured(`${field}.Namespace`, 'fails over to another namespace, which meshlet does not reach');
    if (rule.Policy !== undefined && rule.Policy !== null) notHonoured(`${field}.Policy`, 'failover policies (order by locality) are not implemented');
    if (str(rule.SamenessGroup) !== undefined) notHonoured(`${field}.SamenessGroup`, 'sameness groups are not implemented');
    const list: TargetRef[] = [];
    if (targets.length === 0 && (str(rule.Service) !== undefined || str(rule.ServiceSubset) !== undefined)) list.push({ service: str(rule.Service) ?? service, subset: str(rule.ServiceSubset) });
    targets.forEach((target, i) => {
      for (const elsewhere of ELSEWHERE) if (str(target[elsewhere]) !== undefined) notHonoured(`${field}.Targets[${i}].${elsewhere}`, 'a failover target outside this datacenter/partition/namespace, which meshlet does not reach');
      list.push({ service: str(target.Service) ?? service, subset: str(target.ServiceSubset) });
    });
    failover[key === '*' ? '*' : key] = list;
  }

  const connectTimeout = duration(entry.ConnectTimeout, 'ConnectTimeout', errors) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const requestTimeout = duration(entry.RequestTimeout, 'RequestTimeout', errors);
  if (entry.PrioritizeByLocality !== undefined && entry.PrioritizeByLocality !== null) notHonoured('PrioritizeByLocality', 'locality-aware routing is not implemented');
  const balancer = translateLoadBalancer(asJson(entry.LoadBalancer), errors, notHonoured);
  const resolution: ServiceResolution = { service, subsets, defaultSubset, failover, connectTimeout, requestTimeout, balancer };
  return { resolution, redirect, errors, unsupported };
}

export function defaultResolution(service: string): ServiceResolution {
  return { service, subsets: {}, defaultSubset: undefined, failover: {}, connectTimeout: DEFAULT_CONNECT_TIMEOUT_MS, requestTimeout: undefined, balancer: undefined };
}

function translateLoadBalancer(lb: Json | undefined, errors: string[], notHonoured: (field: string, reason: string) => void): BalancerPolicy | undefined {
  if (lb === undefined) return undefined;
  const policy = str(lb.Policy) ?? '';
  if (!LB_POLICIES.includes(policy)) {
    errors.push(`Bad LoadBalancer policy: ${JSON.stringify(policy)} is not supported`);
    return undefined;
  }
  const hashBased = policy === 'ring_hash' || policy === 'maglev';
  const hashPolicies = Array.isArray(lb.HashPolicies) ? lb.HashPolicies.map((h) => asJson(h) ?? {}) : [];
  if (asJson(lb.RingHashConfig) !== undefined && policy !== 'ring_hash') errors.push(`RingHashConfig specified for incompatible load balancing policy ${JSON.stringify(policy)}`);
  if (asJson(lb.LeastRequestConfig) !== undefined && policy !== 'least_request') errors.push(`LeastRequestConfig specified for incompatible load balancing policy ${JSON.stringify(policy)}`);
  if (hashPolicies.length > 0 && !hashBased) errors.push('HashPolicies specified for non-hash-based Policy');
  hashPolicies.forEach((hash, i) => {
    const field = str(hash.Field);
    const value = str(hash.FieldValue);
    const cookie = asJson(hash.CookieConfig);
    if (field !== undefined && value === undefined) errors.push(`HashPolicies[${i}]: Field ${JSON.stringify(field)} was specified without a FieldValue`);
    if (value !== undefined && field === undefined) errors.push(`HashPolicies[${i}]: FieldValue requires a Field to apply to`);
    if (hash.SourceIP === true && (field !== undefined || value !== undefined)) errors.push(`HashPolicies[${i}]: A single hash policy cannot hash both a source address and a ${JSON.stringify(field)}`);
    if (cookie !== undefined && field !== 'cookie') errors.push(`HashPolicies[${i}]: cookie_config provided for ${JSON.stringify(field ?? '')}`);
    if (cookie?.Session === true && str(cookie.TTL) !== undefined) errors.push(`HashPolicies[${i}]: a session cookie cannot have an associated TTL`);
  });
  switch (policy) {
    case '':
      return undefined;
    case 'random':
      return { policy: 'random' };
    case 'round_robin':
      return { policy: 'round-robin' };
    case 'least_request': {
      const choices = asJson(lb.LeastRequestConfig)?.ChoiceCount;
      if (choices !== undefined && choices !== 2) notHonoured('LoadBalancer.LeastRequestConfig.ChoiceCount', `meshlet's p2c-least-request compares 2 endpoints, not ${String(choices)}`);
      return { policy: 'p2c-least-request' };
    }
    default: {
      if (policy === 'maglev') notHonoured('LoadBalancer.Policy', 'maglev is balanced by ring-hash: the same keys stick to the same endpoints, but the table differs from Envoy\'s maglev');
      const ring = asJson(lb.RingHashConfig);
      if (ring?.MaximumRingSize !== undefined) notHonoured('LoadBalancer.RingHashConfig.MaximumRingSize', 'meshlet sizes its ring by endpoint weight (at most 2^20 points); a maximum is not configurable');
      const minimum = typeof ring?.MinimumRingSize === 'number' && ring.MinimumRingSize > 0 ? ring.MinimumRingSize : 1024;
      let hashOn: string | undefined;
      hashPolicies.forEach((hash, i) => {
        const path = `LoadBalancer.HashPolicies[${i}]`;
        if (i > 0) notHonoured(path, 'meshlet hashes on one header; a second hash policy is not applied');
        else if (str(hash.Field) === 'header') hashOn = `header:${str(hash.FieldValue)!.toLowerCase()}`;
        else if (hash.SourceIP === true) notHonoured(path, 'hashing on the source IP is not implemented (an in-process client has one source)');
        else notHonoured(`${path}.Field`, `hashing on a ${str(hash.Field) ?? 'missing field'} is not implemented (only a header)`);
        if (asJson(hash.CookieConfig) !== undefined) notHonoured(`${path}.CookieConfig`, 'generated hash cookies (TTL, path) are not implemented');
        if (hash.Terminal === true && i === 0 && hashPolicies.length > 1) notHonoured(`${path}.Terminal`, 'terminal hash policies are not implemented');
      });
      return { policy: 'ring-hash', hashOn, minRingSize: Math.min(minimum, 1 << 20) };
    }
  }
}

function duration(value: unknown, field: string, errors: string[]): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ms = goDurationToMs(value);
  if (ms === undefined) errors.push(`${field} must be a non-negative Go duration, got ${JSON.stringify(value)}`);
  return ms;
}

export function asJson(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** A non-empty string field (Go's zero value "" means unset). */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
