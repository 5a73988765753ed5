/**
 * The last step of resolution: the merged state of one service becomes a complete, frozen
 * ServicePolicy. Checks that need every level at once live here (a rate limit needs an `rps`
 * from some level; backoff base must not exceed max), and TLS files are read into PEM text
 * so layers never touch the file system.
 */
import type { ConfigIssue } from '../core/errors.ts';
import type {
  BalancerPolicy,
  ConcurrencyPolicy,
  DiscoveryPolicy,
  FaultPolicy,
  HedgePolicy,
  OutlierPolicy,
  RateLimitPolicy,
  RetryPolicy,
  ServicePolicy,
  TlsPolicy,
  BreakerPolicy,
  PoolPolicy,
} from './policy.ts';
import type { PolicyTree } from './merge.ts';
import { finalizeRoutes, finalizeSubsets } from './finalize-routes.ts';
import type { RouteConfig, SubsetsConfig } from './route-schema.ts';
import { readPemFile, type PemReader } from './tls-files.ts';

/** The merged state, as the built-in defaults guarantee it except where noted. */
interface MergedPolicy {
  discovery?: DiscoveryPolicy | { type: 'static'; endpoints: { address: string; weight?: number; tags?: string[]; meta?: Record<string, string> }[] };
  balancer: BalancerPolicy;
  timeout: number | false;
  perTryTimeout: number | false;
  retry: RetryPolicy | false;
  hedge: HedgePolicy | false;
  breaker: BreakerPolicy | false;
  outlier: OutlierPolicy | false;
  rateLimit: Partial<RateLimitPolicy> | false;
  concurrency: (Partial<ConcurrencyPolicy> & { adaptive: boolean }) | false;
  tls: { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized: boolean } | false;
  fault: { abort: Partial<{ percent: number; status: number }> | false; delay: Partial<{ percent: number; duration: number }> | false } | false;
  pool: PoolPolicy;
  subsets?: SubsetsConfig;
  routes?: RouteConfig[];
}

export interface FinalizeOptions {
  readonly baseDir: string;
  readonly readPem?: PemReader;
}

export function finalizePolicy(name: string, tree: PolicyTree, options: FinalizeOptions, issues: ConfigIssue[]): ServicePolicy {
  const merged = tree as unknown as MergedPolicy;
  const at = (path: string, message: string): void => {
    issues.push({ path: path === '' ? `services.${name}` : `services.${name}.${path}`, message });
  };
  if (merged.discovery === undefined) at('', 'no endpoints or discovery: add "endpoints" or "discovery" for this service');
  if (merged.retry !== false && merged.retry.backoff.base > merged.retry.backoff.max) {
    at('retry.backoff', `base (${merged.retry.backoff.base}ms) must not exceed max (${merged.retry.backoff.max}ms)`);
  }
  if (merged.outlier !== false && merged.outlier.maxEjectFor < merged.outlier.ejectFor) {
    at('outlier.maxEjectFor', `must be at least ejectFor (${merged.outlier.ejectFor}ms), got ${merged.outlier.maxEjectFor}ms`);
  }
  const policy: ServicePolicy = {
    name,
    discovery: finalizeDiscovery(name, merged.discovery),
    balancer: merged.balancer,
    timeout: merged.timeout,
    perTryTimeout: merged.perTryTimeout,
    retry: merged.retry,
    hedge: merged.hedge,
    breaker: merged.breaker,
    outlier: merged.outlier,
    rateLimit: finalizeRateLimit(merged.rateLimit, at),
    concurrency: finalizeConcurrency(merged.concurrency, at),
    tls: finalizeTls(merged.tls, options, at),
    fault: finalizeFault(merged.fault, at),
    pool: merged.pool,
    subsets: finalizeSubsets(merged.subsets),
    routes: finalizeRoutes(name, merged.routes, merged.retry),
  };
  return deepFreeze(policy);
}

type At = (path: string, message: string) => void;

function finalizeDiscovery(name: string, discovery: MergedPolicy['discovery']): DiscoveryPolicy {
  if (discovery === undefined) return { type: 'static', endpoints: [] };
  if (discovery.type === 'dns') {
    const port = discovery.port ?? (discovery.record === 'a' ? (discovery.protocol === 'https' ? 443 : 80) : undefined);
    return { ...discovery, port };
  }
  if (discovery.type === 'consul') {
    const { service, tags, passingOnly, datacenter, configEntries } = discovery as Partial<Extract<DiscoveryPolicy, { type: 'consul' }>>;
    // configEntries only when off (they are read by default): a service that keeps the default has the policy it had before the switch existed.
    return { type: 'consul', service: service ?? name, tags: tags ?? [], passingOnly: passingOnly ?? true, datacenter, ...(configEntries === false ? { configEntries } : {}) };
  }
  const endpoints = discovery.endpoints.map((endpoint) => ({
    address: endpoint.address,
    weight: endpoint.weight ?? 1,
    tags: endpoint.tags ?? [],
    meta: { ...endpoint.meta },
  }));
  return { type: 'static', endpoints };
}

function finalizeRateLimit(limit: MergedPolicy['rateLimit'], at: At): RateLimitPolicy | false {
  if (limit === false) return false;
  if (limit.rps === undefined) {
    at('rateLimit.rps', 'required when rateLimit is on: give the sustained rate in requests per second');
    return false;
  }
  const scope = limit.scope ?? 'local';
  if (scope === 'global' && limit.redis === undefined) at('rateLimit.redis', 'required when scope is "global": give a redis:// URL');
  return { rps: limit.rps, burst: limit.burst ?? Math.max(1, Math.ceil(limit.rps)), scope, redis: limit.redis };
}

function finalizeConcurrency(limit: MergedPolicy['concurrency'], at: At): ConcurrencyPolicy | false {
  if (limit === false) return false;
  if (limit.adaptive) {
    const { initial = 20, min = 1, max = 1000 } = limit as Partial<{ initial: number; min: number; max: number }>;
    if (!(min <= initial && initial <= max)) at('concurrency', `expected min ≤ initial ≤ max, got ${min}, ${initial}, ${max}`);
    return { adaptive: true, initial, min, max };
  }
  const fixed = limit as Partial<{ max: number; queue: number; queueTimeout: number }>;
  if (fixed.max === undefined) {
    at('concurrency.max', 'required for a fixed concurrency limit: give "max", or use {"adaptive": true}');
    return false;
  }
  return { adaptive: false, max: fixed.max, queue: fixed.queue ?? 0, queueTimeout: fixed.queueTimeout ?? 1000 };
}

function finalizeFault(fault: MergedPolicy['fault'], at: At): FaultPolicy | false {
  if (fault === false) return false;
  let abort: FaultPolicy['abort'] = false;
  let delay: FaultPolicy['delay'] = false;
  if (fault.abort !== false) {
    if (fault.abort.percent === undefined) at('fault.abort.percent', 'required: the percentage of calls to abort');
    else abort = { percent: fault.abort.percent, status: fault.abort.status ?? 503 };
  }
  if (fault.delay !== false) {
    const { percent, duration } = fault.delay;
    if (percent === undefined) at('fault.delay.percent', 'required: the percentage of calls to delay');
    if (duration === undefined) at('fault.delay.duration', 'required: how long to delay, e.g. "100ms"');
    if (percent !== undefined && duration !== undefined) delay = { percent, duration };
  }
  return { abort, delay };
}

function finalizeTls(tls: MergedPolicy['tls'], options: FinalizeOptions, at: At): TlsPolicy | undefined {
  if (tls === false) return undefined;
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    at(tls.cert === undefined ? 'tls.cert' : 'tls.key', 'cert and key go together for mTLS: give both or neither');
  }
  const read = (field: 'ca' | 'cert' | 'key'): string | undefined => {
    const file = tls[field];
    if (file === undefined) return undefined;
    const result = (options.readPem ?? readPemFile)(file, options.baseDir);
    if (typeof result === 'string') return result;
    at(`tls.${field}`, result.error);
    return undefined;
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key'), servername: tls.servername, rejectUnauthorized: tls.rejectUnauthorized };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
