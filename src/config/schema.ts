/**
 * The MeshConfig schema (DESIGN §3): what a config author may write, from code, a file or a
 * control store. It parses and normalises one document (durations to ms, shorthand strings
 * to objects) but applies no defaults: a missing key means "inherit from the level below",
 * which only resolve.ts can know. Every object is strict, every value bounded.
 */
import { z } from 'zod';
import { CREDENTIALS_IN_ADDRESS, hasUserinfo } from '../discovery/address.ts';
import { describeValue, didYouMean } from './describe.ts';
import {
  bool,
  duration,
  durationOrOff,
  integer,
  list,
  notAvailable,
  number,
  oneOf,
  strictObject,
  switchable,
  text,
} from './fields.ts';
import { MAX_ATTEMPTS, MAX_SERVICES } from './limits.ts';
import { documentEndpointCounts, endpointCountIssues } from './endpoint-limits.ts';
import { retryCondition } from './retry-condition.ts';
import { routes, subsets } from './route-schema.ts';

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))$/;
const ADDRESS = /^(?:https?:\/\/)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252}):(\d{1,5})$/;
const HEADER_HASH = /^header:[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Service names are host names in `mesh.fetch('http://payments/…')`, which lower-cases hosts. */
export const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const RESERVED_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

export function isEndpointAddress(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = ADDRESS.exec(value);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}

const address = z.custom<string>(isEndpointAddress, {
  error: (issue) =>
    typeof issue.input === 'string' && hasUserinfo(issue.input)
      ? `${CREDENTIALS_IN_ADDRESS}; got ${describeValue(issue.input)}`
      : `expected "host:port" or "http(s)://host:port" with a port from 1 to 65535, got ${describeValue(issue.input)}`,
});

const endpointObject = strictObject({
  address,
  weight: integer(1, 65535).optional(),
  tags: list(text('a tag (non-empty string)')).optional(),
  meta: z.record(text('a meta key'), text('a meta value (string)')).optional(),
});

type EndpointInput = string | z.input<typeof endpointObject>;
const endpoint = z.preprocess((value: EndpointInput, context) => {
  if (typeof value !== 'string') return value;
  if (isEndpointAddress(value)) return { address: value };
  const message = address.safeParse(value).error?.issues[0]?.message ?? 'invalid endpoint';
  context.addIssue({ code: 'custom', input: value, message });
  return z.NEVER;
}, endpointObject);

/** One service's static endpoint list (exported for validation in slices, validate-in-slices.ts). */
export const endpoints = list(endpoint).superRefine((items, context) => {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const first = seen.get(item.address);
    if (first === undefined) seen.set(item.address, index);
    else context.addIssue({ code: 'custom', path: [index], message: `duplicate endpoint "${item.address}" (also at index ${first})` });
  });
});

const dnsDiscovery = strictObject({
  type: z.literal('dns'),
  name: text('a DNS name', HOST),
  port: integer(1, 65535).optional(),
  record: oneOf(['a', 'srv'], 'a DNS record type').optional(),
  interval: duration(true).optional(),
  protocol: oneOf(['http', 'https'], 'a protocol').optional(),
});

/** Consul accepts more, but a name outside DNS's alphabet cannot be looked up over Consul DNS either. */
const CONSUL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const consulDiscovery = strictObject({
  type: z.literal('consul'),
  /** The name registered in Consul; default: the service's name in this config. */
  service: text('a Consul service name (letters, digits, ".", "_", "-")', CONSUL_NAME).optional(),
  /** Every tag must be on an instance for it to be used (Consul's `?tag=`, case-insensitive). */
  tags: list(text('a tag (non-empty string)'), 64).optional(),
  passingOnly: bool.optional(),
  datacenter: text('a Consul datacenter name (letters, digits, ".", "_", "-")', CONSUL_NAME).optional(),
  /** Route by the service's service-router/splitter/resolver entries when it has no `routes` (mesh/consul-routing.ts). */
  configEntries: bool.optional(),
});

const DISCOVERY_TYPES = ['dns', 'consul'] as const;
// Chosen by `type`, so a typo in one kind is reported against that kind's keys, not another's.
const discovery = z.discriminatedUnion('type', [dnsDiscovery, consulDiscovery], {
  error: (issue) => {
    const input = issue.input;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return `expected an object, got ${describeValue(input)}`;
    const type = (input as { type?: unknown }).type;
    const list = DISCOVERY_TYPES.map((v) => `"${v}"`).join(', ');
    return `expected a discovery type: one of ${list}, got ${describeValue(type)}${didYouMean(type, DISCOVERY_TYPES)}`;
  },
});

export const BALANCER_POLICIES = ['p2c-ewma', 'p2c-least-request', 'round-robin', 'random', 'ring-hash'] as const;
const balancerPolicy = oneOf(BALANCER_POLICIES, 'a balancer policy');
const balancerObject = strictObject({
  policy: balancerPolicy,
  decay: duration(true).optional(),
  hashOn: text('"header:<name>"', HEADER_HASH)
    .transform((v) => v.toLowerCase())
    .optional(),
  minRingSize: integer(1, 1 << 20).optional(),
}).superRefine((value, context) => {
  const misplaced = (key: string, owner: string): void => {
    context.addIssue({ code: 'custom', path: [key], message: `${key} applies only to the "${owner}" balancer` });
  };
  if (value.decay !== undefined && value.policy !== 'p2c-ewma') misplaced('decay', 'p2c-ewma');
  if (value.hashOn !== undefined && value.policy !== 'ring-hash') misplaced('hashOn', 'ring-hash');
  if (value.minRingSize !== undefined && value.policy !== 'ring-hash') misplaced('minRingSize', 'ring-hash');
});
type BalancerInput = (typeof BALANCER_POLICIES)[number] | z.input<typeof balancerObject>;
const balancer = z.preprocess((value: BalancerInput, context) => {
  if (typeof value !== 'string') return value;
  // A misspelt shorthand is reported at `balancer`, where the author wrote it.
  const checked = balancerPolicy.safeParse(value);
  if (checked.success) return { policy: value };
  context.addIssue({ code: 'custom', input: value, message: checked.error.issues[0]?.message ?? 'invalid balancer' });
  return z.NEVER;
}, balancerObject);

const retry = strictObject({
  attempts: integer(1, MAX_ATTEMPTS).optional(),
  backoff: strictObject({ base: duration().optional(), max: duration().optional() }).optional(),
  on: list(retryCondition, 64).optional(),
  budget: switchable(
    strictObject({
      ratio: number(0, 1).optional(),
      minPerSecond: number(0, 1_000_000).optional(),
      window: duration(true).optional(),
    }),
  ).optional(),
  maxRetryAfter: duration().optional(),
});

const PERCENTILE = /^p(\d{2}(?:\.\d{1,3})?)$/;
const hedgeAfter = z
  .custom<string | number>(
    (v) => {
      const match = typeof v === 'string' ? PERCENTILE.exec(v) : null;
      if (match !== null) return Number(match[1]) >= 50 && Number(match[1]) <= 99.9;
      const parsed = duration(true).safeParse(v);
      return parsed.success;
    },
    {
      error: (issue) =>
        `expected a duration like "40ms" or a latency percentile from "p50" to "p99.9", got ${describeValue(issue.input)}`,
    },
  )
  .transform((v): { delay: number } | { percentile: number } => {
    const match = typeof v === 'string' ? PERCENTILE.exec(v) : null;
    return match !== null ? { percentile: Number(match[1]) } : { delay: duration(true).parse(v) };
  });

const hedge = strictObject({
  after: hedgeAfter.optional(),
  maxExtraLoad: number(0, 1).optional(),
  maxAttempts: integer(2, MAX_ATTEMPTS).optional(),
});

const breaker = strictObject({
  errorRate: number(0, 1, true).optional(),
  minRequests: integer(1, 1_000_000).optional(),
  window: duration(true).optional(),
  openFor: duration(true).optional(),
});

const outlier = strictObject({
  consecutiveFailures: integer(1, 1_000_000).optional(),
  ejectFor: duration(true).optional(),
  maxEjectFor: duration(true).optional(),
  maxEjectedPercent: number(0, 100).optional(),
  panicThreshold: number(0, 100).optional(),
  probeInterval: durationOrOff().optional(),
});

const rateLimit = strictObject({
  rps: number(0, 10_000_000, true).optional(),
  burst: integer(1, 10_000_000).optional(),
  scope: oneOf(['local', 'global'], 'a rate limit scope').optional(),
  redis: text('a "redis://" or "rediss://" URL', /^rediss?:\/\/\S+$/, true).optional(),
});

const concurrency = strictObject({
  adaptive: bool.optional(),
  max: integer(1, 1_000_000).optional(),
  queue: integer(0, 1_000_000).optional(),
  queueTimeout: duration(true).optional(),
  initial: integer(1, 1_000_000).optional(),
  min: integer(1, 1_000_000).optional(),
}).superRefine((value, context) => {
  const keys = value.adaptive === true ? (['queue', 'queueTimeout'] as const) : (['initial', 'min'] as const);
  for (const key of keys) {
    if (value[key] === undefined) continue;
    const message =
      value.adaptive === true
        ? `${key} applies only to a fixed limit; remove it or remove "adaptive: true"`
        : `${key} applies only to an adaptive limit; add "adaptive": true`;
    context.addIssue({ code: 'custom', path: [key], message });
  }
});

const tls = strictObject({
  ca: text('a file path').optional(),
  cert: text('a file path').optional(),
  key: text('a file path').optional(),
  servername: text('a host name', HOST).optional(),
  rejectUnauthorized: bool.optional(),
});

const fault = strictObject({
  abort: switchable(
    strictObject({ percent: number(0, 100).optional(), status: integer(200, 599).optional() }),
    false,
  ).optional(),
  delay: switchable(
    strictObject({ percent: number(0, 100).optional(), duration: duration().optional() }),
    false,
  ).optional(),
});

const pool = strictObject({
  connections: integer(1, 1024).optional(),
  keepAliveTimeout: duration(true).optional(),
  connectTimeout: duration(true).optional(),
});


const policyShape = {
  balancer: balancer.optional(),
  timeout: durationOrOff().optional(),
  perTryTimeout: durationOrOff().optional(),
  retry: switchable(retry).optional(),
  hedge: switchable(hedge).optional(),
  breaker: switchable(breaker).optional(),
  outlier: switchable(outlier).optional(),
  rateLimit: switchable(rateLimit, false).optional(),
  concurrency: switchable(concurrency).optional(),
  tls: switchable(tls).optional(),
  fault: switchable(fault, false).optional(),
  pool: pool.optional(),
};

const service = strictObject({
  ...policyShape,
  endpoints: endpoints.optional(),
  discovery: discovery.optional(),
  subsets: subsets.optional(),
  routes: routes.optional(),
}).superRefine(
  (value, context) => {
    if (value.endpoints !== undefined && value.discovery !== undefined) {
      context.addIssue({ code: 'custom', path: ['discovery'], message: 'give either "endpoints" or "discovery", not both' });
    }
  },
);

const notInDefaults = (key: string) => notAvailable(`${key} cannot be a default for every service; set it per service`);
const defaults = strictObject({
  ...policyShape,
  endpoints: notInDefaults('endpoints').optional(),
  discovery: notInDefaults('discovery').optional(),
  // Subset names and routes are a service's own: one service's v2 is not another's.
  subsets: notInDefaults('subsets').optional(),
  routes: notInDefaults('routes').optional(),
});

const serviceName = z.custom<string>((v) => typeof v === 'string' && SERVICE_NAME.test(v) && !RESERVED_NAMES.has(v), {
  error: (issue) =>
    typeof issue.input === 'string' && RESERVED_NAMES.has(issue.input)
      ? `"${issue.input}" is reserved and cannot name a service`
      : `service names are 1 to 63 characters of a-z, 0-9, ".", "-" and "_", starting with a letter or digit (they are host names in mesh.fetch URLs), got ${describeValue(issue.input)}`,
});

const serviceRecord = z
  .record(serviceName, service, { error: (issue) => `expected an object of services, got ${describeValue(issue.input)}` })
  .superRefine((value, context) => {
    const count = Object.keys(value).length;
    if (count > MAX_SERVICES) context.addIssue({ code: 'custom', message: `expected at most ${MAX_SERVICES} services, got ${count}` });
  });
// Endpoint counts are checked before any endpoint is parsed: a config far over the limits
// is refused for the cost of counting its lists.
const services = z.preprocess((value: z.input<typeof serviceRecord>, context) => {
  const issues = endpointCountIssues(documentEndpointCounts(value));
  for (const issue of issues) {
    context.addIssue({ code: 'custom', path: issue.service === undefined ? [] : [issue.service, 'endpoints'], message: issue.message });
  }
  return issues.length > 0 ? z.NEVER : value;
}, serviceRecord);

export const meshConfigSchema = strictObject({ defaults: defaults.optional(), services: services.optional() });

/** What a config author writes (from code; files and stores give the same shape untyped). */
export type MeshConfigInput = z.input<typeof meshConfigSchema>;
/** One validated, normalised document: durations in ms, no defaults applied. */
export type MeshConfig = z.output<typeof meshConfigSchema>;
export type ServiceConfig = z.output<typeof service>;
export type DefaultsConfig = z.output<typeof defaults>;
