/**
 * The arguments of `mesh.register()`, checked at the door and turned into the body of
 * Consul's `PUT /v1/agent/service/register` (SVCDOC, CHKDOC). A bad argument is a
 * MESH_BAD_REQUEST naming it, before anything reaches the agent: Consul would answer a 400
 * for some (a `0.0.0.0` address, bad meta) and silently accept others (a typo such as
 * `tag`), and a registration that quietly lacks its tags or check is found only in an outage.
 */
import { parseDuration } from '../config/duration.ts';
import type { ServiceCheckDefinition, ServiceRegistration } from '../consul/client.ts';
import { formatGoDuration } from '../consul/duration.ts';
import type { MeshError } from '../core/errors.ts';
import { invalidArgument } from '../core/mesh-errors.ts';
import { redactText } from '../core/redact.ts';
import { describe, unknownKeyMessage } from './call-argument-error.ts';

/** meshlet keeps this check passing while `healthy()` says so (default: always). */
export interface TtlCheckOptions {
  /** How long Consul waits for a pass before it marks the instance critical; `'10s'` or ms. */
  ttl: string | number;
  /** Decides pass or fail on each heartbeat; a throw, a rejection or no answer within ttl/3 is a fail. */
  healthy?: () => boolean | Promise<boolean>;
}

/** Consul itself calls `http` every `interval`: 2xx passing, 429 warning, anything else critical. */
export interface HttpCheckOptions {
  http: string;
  interval: string | number;
  /** Default 10 s (Consul's). */
  timeout?: string | number;
}

export interface RegisterOptions {
  /** The service name callers discover it by. */
  name: string;
  /** Unique on this agent; default `<name>-<port>`, so two processes of one service on a host do not replace each other. */
  id?: string;
  /** Default: the agent's node address. */
  address?: string;
  port: number;
  tags?: readonly string[];
  meta?: Readonly<Record<string, string>>;
  /** Default: a TTL check of 10 s kept passing by meshlet. */
  check?: TtlCheckOptions | HttpCheckOptions;
  /** Consul removes the instance after its check has been critical this long (Consul's floor: 1m). */
  deregisterCriticalAfter?: string | number;
}

/** A registration as meshlet keeps it: what to send, and how to keep it alive. */
export interface RegistrationPlan {
  readonly id: string;
  readonly name: string;
  readonly checkId: string;
  /** `ttl 10000ms` or `http http://… every 10000ms`, for state(). */
  readonly checkDescription: string;
  /** Heartbeat period (ttl/3) for a TTL check; undefined for an HTTP check, which Consul runs. */
  readonly heartbeatMs: number | undefined;
  readonly healthy: (() => boolean | Promise<boolean>) | undefined;
  /** The body for the agent, with the check's initial status to fill in. */
  readonly definition: (status: 'passing' | 'critical') => ServiceRegistration;
}

const API = 'mesh.register(options)';
const OPTION_NAMES = ['name', 'id', 'address', 'port', 'tags', 'meta', 'check', 'deregisterCriticalAfter'] as const;
const TTL_NAMES = ['ttl', 'healthy'] as const;
const HTTP_NAMES = ['http', 'interval', 'timeout'] as const;
const HINTS: Readonly<Record<string, string>> = {
  tag: 'tags: ["v2"]',
  ttl: "the TTL goes inside check: { check: { ttl: '10s' } }",
  http: "the HTTP check goes inside check: { check: { http: 'http://…/health', interval: '10s' } }",
};
const DEFAULT_TTL_MS = 10_000;
/** A heartbeat at least this often: a shorter TTL turns the agent into a busy loop for no gain. */
const MIN_TTL_MS = 1000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Consul's own rules for service meta (agent/structs ValidateServiceMetadata). */
const META_KEY = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_META_PAIRS = 64;
const MAX_META_VALUE = 512;

export function planRegistration(options: RegisterOptions): RegistrationPlan {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument(API, `it needs an options object like { name: 'checkout', port: 8080 }, got ${describe(options)}`);
  }
  rejectUnknown(options, OPTION_NAMES, 'option', HINTS);
  const name = options.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw bad('name', `must be a service name (letters, digits, ".", "_", "-"; at most 128), got ${describe(name)}`);
  }
  const port = options.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw bad('port', `must be the port this process serves on (an integer 1-65535), got ${describe(port)}`);
  }
  const id = options.id ?? `${name}-${port}`;
  if (typeof id !== 'string' || !/^[^\s/]{1,128}$/.test(id)) {
    throw bad('id', `must be a non-empty string without spaces or "/" (at most 128), got ${describe(id)}`);
  }
  const address = checkedAddress(options.address);
  const tags = checkedTags(options.tags);
  const meta = checkedMeta(options.meta);
  const deregisterAfterMs = options.deregisterCriticalAfter === undefined ? undefined : duration(options.deregisterCriticalAfter, 'deregisterCriticalAfter');
  const check = checkedCheck(options.check);
  const checkId = `service:${id}`;
  const definition = (status: 'passing' | 'critical'): ServiceRegistration => {
    const body: ServiceCheckDefinition = {
      CheckID: checkId,
      Name: check.kind === 'ttl' ? 'meshlet heartbeat' : 'meshlet HTTP check',
      ...check.fields,
      ...(check.kind === 'ttl' && { Status: status }),
      ...(deregisterAfterMs !== undefined && { DeregisterCriticalServiceAfter: formatGoDuration(deregisterAfterMs) }),
    };
    return {
      Name: name,
      ID: id,
      Port: port,
      ...(address !== undefined && { Address: address }),
      ...(tags !== undefined && { Tags: tags }),
      ...(meta !== undefined && { Meta: meta }),
      Check: body,
    };
  };
  return { id, name, checkId, checkDescription: check.description, heartbeatMs: check.heartbeatMs, healthy: check.healthy, definition };
}

interface CheckedCheck {
  readonly kind: 'ttl' | 'http';
  readonly fields: ServiceCheckDefinition;
  readonly description: string;
  readonly heartbeatMs: number | undefined;
  readonly healthy: (() => boolean | Promise<boolean>) | undefined;
}

function checkedCheck(check: RegisterOptions['check']): CheckedCheck {
  if (check === undefined) return ttlCheck(DEFAULT_TTL_MS, undefined);
  if (typeof check !== 'object' || check === null) {
    throw bad('check', `must be { ttl: '10s' } or { http: 'http://…/health', interval: '10s' }, got ${describe(check)}`);
  }
  const isTtl = 'ttl' in check;
  const isHttp = 'http' in check;
  if (isTtl === isHttp) {
    throw bad('check', isTtl ? 'has both ttl and http; give one kind of check' : "needs ttl (meshlet keeps it passing) or http (Consul calls it), e.g. { ttl: '10s' }");
  }
  if (isTtl) {
    rejectUnknown(check, TTL_NAMES, 'check option');
    const ttlMs = duration(check.ttl, 'check.ttl');
    if (ttlMs < MIN_TTL_MS) throw bad('check.ttl', `must be at least ${MIN_TTL_MS} ms (meshlet sends a pass every ttl/3), got ${describe(check.ttl)}`);
    if (check.healthy !== undefined && typeof check.healthy !== 'function') {
      throw bad('check.healthy', `must be a function returning true when this process can serve, got ${describe(check.healthy)}`);
    }
    return ttlCheck(ttlMs, check.healthy);
  }
  rejectUnknown(check, HTTP_NAMES, 'check option');
  const url = checkedHttpUrl(check.http);
  const intervalMs = duration(check.interval, 'check.interval');
  if (intervalMs <= 0) throw bad('check.interval', 'must be more than 0');
  const timeoutMs = check.timeout === undefined ? undefined : duration(check.timeout, 'check.timeout');
  return {
    kind: 'http',
    fields: { HTTP: url, Interval: formatGoDuration(intervalMs), ...(timeoutMs !== undefined && { Timeout: formatGoDuration(timeoutMs) }) },
    description: `http ${url} every ${intervalMs} ms`,
    heartbeatMs: undefined,
    healthy: undefined,
  };
}

function ttlCheck(ttlMs: number, healthy: TtlCheckOptions['healthy']): CheckedCheck {
  return { kind: 'ttl', fields: { TTL: formatGoDuration(ttlMs) }, description: `ttl ${ttlMs} ms`, heartbeatMs: Math.floor(ttlMs / 3), healthy };
}

function checkedHttpUrl(value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw bad('check.http', `must be an absolute http(s) URL the agent can reach, e.g. 'http://127.0.0.1:8080/health', got ${describe(value)}`);
  }
  return url.href;
}

function checkedAddress(address: unknown): string | undefined {
  if (address === undefined) return undefined;
  if (typeof address !== 'string' || address === '' || /\s/.test(address)) {
    throw bad('address', `must be the host or IP callers reach this process at, got ${describe(address)}`);
  }
  if (address === '0.0.0.0' || address === '::' || address === '[::]') {
    throw bad('address', `${address} is where a server listens, not where callers can reach it; give this host's IP, or omit it for the node's address`);
  }
  return address;
}

function checkedTags(tags: unknown): string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string' || tag === '')) {
    throw bad('tags', `must be an array of non-empty strings, e.g. ['v2'], got ${describe(tags)}`);
  }
  return [...tags];
}

function checkedMeta(meta: unknown): Record<string, string> | undefined {
  if (meta === undefined) return undefined;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw bad('meta', `must be an object of string values, got ${describe(meta)}`);
  const entries = Object.entries(meta);
  if (entries.length > MAX_META_PAIRS) throw bad('meta', `has ${entries.length} keys; Consul allows ${MAX_META_PAIRS}`);
  for (const [key, value] of entries) {
    if (!META_KEY.test(key)) throw bad(`meta.${key}`, 'a meta key is 1-128 letters, digits, "_" or "-" (Consul\'s rule)');
    if (key.startsWith('consul-')) throw bad(`meta.${key}`, 'the "consul-" prefix is reserved by Consul');
    if (typeof value !== 'string' || value.length > MAX_META_VALUE) throw bad(`meta.${key}`, `must be a string of at most ${MAX_META_VALUE} characters, got ${describe(value)}`);
  }
  return Object.fromEntries(entries);
}

function duration(value: unknown, option: string): number {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw bad(option, parsed.message);
  return parsed.ms;
}

function rejectUnknown(object: object, known: readonly string[], what: string, hints: Readonly<Record<string, string>> = {}): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw invalidArgument(API, unknownKeyMessage(what, key, known, hints[key] ?? ''));
  }
}

/** NOTE: redacted: the message echoes the value, and a check URL may carry a password. */
function bad(option: string, message: string): MeshError {
  return invalidArgument(API, redactText(`${option} ${message}`));
}
