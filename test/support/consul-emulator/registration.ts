/**
 * Decodes an agent service registration (SVCDOC, AGENTGO, CHKDOC) into a catalog instance, its
 * check records and what the check runner must do for each check. Consul decodes JSON field
 * names case-insensitively and accepts snake_case, so `Name`, `name` and `deregister_critical_
 * service_after` are all honoured here too. Errors are Consul's 400 bodies.
 */
import type { CheckRecord, CheckStatus, ServiceInstance } from './catalog.ts';
import { parseGoDuration } from './go-duration.ts';
import { HttpError } from './http-error.ts';

/** What the check runner drives for one check. */
export interface CheckSpec {
  readonly checkId: string;
  readonly serviceId: string;
  readonly ttlMs?: number;
  readonly http?: { readonly url: string; readonly method: string; readonly headers: Record<string, string>; readonly body?: string };
  readonly intervalMs?: number;
  readonly timeoutMs: number;
  readonly deregisterCriticalAfterMs?: number;
}

export interface Registration {
  readonly service: Omit<ServiceInstance, 'createIndex' | 'modifyIndex'>;
  readonly checks: readonly { readonly record: Omit<CheckRecord, 'createIndex' | 'modifyIndex'>; readonly spec: CheckSpec }[];
}

type Json = Record<string, unknown>;

/** Current status of a check that is being re-registered (kept when the new definition gives none). */
export type PriorCheck = (checkId: string) => { status: CheckStatus; output: string } | undefined;

export function parseRegistration(body: unknown, prior: PriorCheck): Registration {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'Request decode failed: expected a JSON object');
  }
  const def = body as Json;
  const name = stringField(def, 'Name');
  if (name === undefined || name === '') throw new HttpError(400, 'Missing service name');
  const id = stringField(def, 'ID') || name;
  const address = stringField(def, 'Address') ?? '';
  if (address === '0.0.0.0' || address === '::' || address === '[::]') throw new HttpError(400, 'Invalid service address');
  const weights = objectField(def, 'Weights');
  const passingWeight = weights === undefined ? 1 : Number(field(weights, 'Passing') ?? 1);
  const warningWeight = weights === undefined ? 1 : Number(field(weights, 'Warning') ?? 1);
  if (!(passingWeight >= 1)) throw new HttpError(400, `Invalid Weights: Passing must be greater than 0`);
  const tagged = objectField(def, 'TaggedAddresses');
  const service: Registration['service'] = {
    id,
    name,
    tags: stringArray(field(def, 'Tags')),
    address,
    meta: stringMap(field(def, 'Meta')),
    port: Number(field(def, 'Port') ?? 0),
    weights: { Passing: passingWeight, Warning: warningWeight },
    enableTagOverride: field(def, 'EnableTagOverride') === true,
    ...(tagged && { taggedAddresses: taggedAddresses(tagged) }),
  };
  const definitions: Json[] = [];
  const single = objectField(def, 'Check');
  if (single !== undefined) definitions.push(single);
  const many = field(def, 'Checks');
  if (Array.isArray(many)) for (const c of many) if (typeof c === 'object' && c !== null) definitions.push(c as Json);
  const checks = definitions.map((c, i) => parseCheck(c, service, definitions.length > 1 ? i + 1 : undefined, prior));
  return { service, checks };
}

function parseCheck(def: Json, service: Registration['service'], ordinal: number | undefined, prior: PriorCheck): Registration['checks'][number] {
  const checkId = stringField(def, 'CheckID') || stringField(def, 'ID') || `service:${service.id}${ordinal === undefined ? '' : `:${ordinal}`}`;
  const ttl = stringField(def, 'TTL');
  const http = stringField(def, 'HTTP');
  const interval = stringField(def, 'Interval') ?? '';
  const timeout = stringField(def, 'Timeout') ?? '';
  const ttlMs = ttl ? duration(ttl, 'TTL') : undefined;
  const intervalMs = interval ? duration(interval, 'Interval') : undefined;
  if (ttlMs === undefined && http === undefined) {
    throw new HttpError(400, 'Invalid check: Must provide TTL or HTTP and Interval (the emulator runs TTL and HTTP checks only)');
  }
  if (http !== undefined && !(intervalMs !== undefined && intervalMs > 0)) {
    throw new HttpError(400, 'Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks');
  }
  const statusText = stringField(def, 'Status') ?? '';
  if (!['', 'passing', 'warning', 'critical'].includes(statusText)) {
    throw new HttpError(400, "Status for checks must 'passing', 'warning', 'critical'");
  }
  const before = prior(checkId);
  const status: CheckStatus = (statusText || before?.status || 'critical') as CheckStatus;
  const deregister = stringField(def, 'DeregisterCriticalServiceAfter');
  const spec: CheckSpec = {
    checkId,
    serviceId: service.id,
    timeoutMs: timeout ? duration(timeout, 'Timeout') : 10_000,
    ...(ttlMs !== undefined && { ttlMs }),
    ...(intervalMs !== undefined && { intervalMs }),
    ...(http !== undefined && {
      http: {
        url: http,
        method: stringField(def, 'Method') || 'GET',
        headers: headerMap(field(def, 'Header')),
        ...(stringField(def, 'Body') !== undefined && { body: stringField(def, 'Body') as string }),
      },
    }),
    ...(deregister && { deregisterCriticalAfterMs: duration(deregister, 'DeregisterCriticalServiceAfter') }),
  };
  const record: Registration['checks'][number]['record'] = {
    checkId,
    name: stringField(def, 'Name') || `Service '${service.name}' check`,
    status,
    output: statusText === '' ? (before?.output ?? '') : '',
    notes: stringField(def, 'Notes') ?? '',
    serviceId: service.id,
    serviceName: service.name,
    type: ttlMs !== undefined ? 'ttl' : 'http',
    interval: ttlMs !== undefined ? '' : interval,
    timeout: ttlMs !== undefined ? '' : timeout,
  };
  return { record, spec };
}

/** The value of `name` in `obj`, matched as Consul's decoder does: case-insensitive, snake_case allowed. */
export function field(obj: Json, name: string): unknown {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(obj)) if (key.replaceAll('_', '').toLowerCase() === wanted) return value;
  return undefined;
}

function stringField(obj: Json, name: string): string | undefined {
  const value = field(obj, name);
  return typeof value === 'string' ? value : undefined;
}

function objectField(obj: Json, name: string): Json | undefined {
  const value = field(obj, name);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function stringMap(value: unknown): Record<string, string> | null {
  if (typeof value !== 'object' || value === null) return null;
  const entries = Object.entries(value as Json);
  if (entries.length === 0) return null;
  return Object.fromEntries(entries.map(([k, v]) => [k, String(v)]));
}

function headerMap(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
}

function taggedAddresses(value: Json): Record<string, { address: string; port: number }> {
  const out: Record<string, { address: string; port: number }> = {};
  for (const [name, entry] of Object.entries(value)) {
    if (typeof entry !== 'object' || entry === null) continue;
    out[name] = { address: String(field(entry as Json, 'Address') ?? ''), port: Number(field(entry as Json, 'Port') ?? 0) };
  }
  return out;
}

function duration(text: string, name: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined) throw new HttpError(400, `Request decode failed: ${name}: time: invalid duration ${JSON.stringify(text)}`);
  return ms;
}
