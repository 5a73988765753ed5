/**
 * What a Consul health answer becomes: one endpoint per usable instance. The address is the
 * service's own (`Service.Address`), or its node's when the service registered none (Consul
 * leaves it ""); the weight is `Weights.Passing`, or `Weights.Warning` for an instance whose
 * checks warn; tags and meta ride along for subsets.
 *
 * NOTE: one bad registration (a port of 0, an address with a path) must cost that instance,
 * never the answer: it is skipped and named in `skipped`, the rest is used.
 */
import { isIP } from 'node:net';
import type { HealthServiceEntry } from '../consul/types.ts';
import type { EndpointAddress } from '../core/endpoint.ts';
import { makeAddress } from './address.ts';

/** An instance left out of the answer, and why (for state() and the control-error event). */
export interface SkippedInstance {
  readonly id: string;
  readonly reason: string;
}

export interface ConsulEndpoints {
  /** Sorted by id, so an answer Consul reordered is the same list. */
  readonly endpoints: readonly EndpointAddress[];
  readonly skipped: readonly SkippedInstance[];
}

/** The largest weight a static endpoint may have; Consul allows more, the balancer gains nothing from it. */
const MAX_WEIGHT = 65535;
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})$/;

type Status = 'passing' | 'warning' | 'critical';

/** An instance's health is its worst check's, node checks (serfHealth) included, as Consul's `?passing` reads it. */
function statusOf(entry: HealthServiceEntry): Status {
  let status: Status = 'passing';
  for (const check of entry.Checks ?? []) {
    if (check.Status === 'passing') continue;
    if (check.Status !== 'warning') return 'critical';
    status = 'warning';
  }
  return status;
}

function validHost(host: string): boolean {
  return isIP(host) !== 0 || (HOST_NAME.test(host) && !host.includes('..'));
}

/** A weight as Consul gives it (absent: 1, Consul's default); 0 means "send it nothing". */
function weightOf(value: unknown): number | string {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return `weight ${JSON.stringify(value)} is not a whole number ≥ 0`;
  return Math.min(value, MAX_WEIGHT);
}

function toEndpoint(entry: HealthServiceEntry, protocol: 'http' | 'https', passingOnly: boolean): EndpointAddress | SkippedInstance | undefined {
  const service = entry.Service;
  const id = typeof service?.ID === 'string' && service.ID !== '' ? service.ID : '(no ID)';
  const skip = (reason: string): SkippedInstance => ({ id, reason });
  if (typeof service !== 'object' || service === null) return skip('the entry has no Service');
  const status = statusOf(entry);
  // Consul's ?passing already dropped these; checked again so a warning or critical
  // instance is never used whichever way the answer was filtered.
  if (status === 'critical' || (passingOnly && status === 'warning')) return undefined;
  const serviceAddress = typeof service.Address === 'string' ? service.Address.trim() : '';
  const host = serviceAddress !== '' ? serviceAddress : typeof entry.Node?.Address === 'string' ? entry.Node.Address.trim() : '';
  if (host === '') return skip('neither Service.Address nor Node.Address is set');
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!validHost(bare)) return skip(`address ${JSON.stringify(host.slice(0, 100))} is not an IP address or host name`);
  const port = service.Port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return skip(`port ${JSON.stringify(port)} is not from 1 to 65535`);
  }
  const weight = weightOf(status === 'warning' ? service.Weights?.Warning : service.Weights?.Passing);
  if (typeof weight === 'string') return skip(weight);
  // Weight 0 is how an operator drains an instance through its registration.
  if (weight === 0) return undefined;
  const tags = Array.isArray(service.Tags) ? Object.freeze(service.Tags.filter((tag): tag is string => typeof tag === 'string')) : [];
  const meta = Object.freeze({ ...stringsOnly(service.Meta) });
  return makeAddress(protocol, bare, port, { weight, tags, meta });
}

function stringsOnly(meta: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (typeof meta !== 'object' || meta === null) return result;
  for (const [key, value] of Object.entries(meta)) if (typeof value === 'string') result[key] = value;
  return result;
}

export function endpointsFromHealth(entries: readonly HealthServiceEntry[], protocol: 'http' | 'https', passingOnly: boolean): ConsulEndpoints {
  const byId = new Map<string, EndpointAddress>();
  const skipped: SkippedInstance[] = [];
  for (const entry of Array.isArray(entries) ? entries : []) {
    const result = toEndpoint(entry, protocol, passingOnly);
    if (result === undefined) continue;
    if (!('host' in result)) {
      skipped.push(result);
      continue;
    }
    // Two registrations of one host:port are one endpoint (the first one's labels win).
    if (!byId.has(result.id)) byId.set(result.id, result);
  }
  const endpoints = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { endpoints, skipped };
}

/** Equal keys: nothing a balancer or a subset reads has changed. */
export function endpointsKey(endpoints: readonly EndpointAddress[]): string {
  return JSON.stringify(endpoints.map((e) => [e.id, e.weight, e.tags, Object.entries(e.meta).sort()]));
}
