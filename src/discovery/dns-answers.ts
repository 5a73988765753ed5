/**
 * What a DNS answer becomes: A/AAAA addresses take the configured port, SRV records bring
 * their own port and weight (RFC 2782: only the lowest priority is in use, the others are
 * backups). Answers are deduplicated, sorted and capped so a huge or reordered answer
 * neither floods the balancer with pools nor looks like a membership change.
 */
import type { SrvRecord } from 'node:dns';
import type { EndpointAddress } from '../core/endpoint.ts';
import { makeAddress } from './address.ts';

/** A balancer spreading over more endpoints than this gains nothing but sockets. */
export const MAX_DNS_ANSWERS = 64;

const NO_TAGS: readonly string[] = Object.freeze([]);
const NO_META: Readonly<Record<string, string>> = Object.freeze({});

function capped(byId: Map<string, EndpointAddress>, max: number): EndpointAddress[] {
  const sorted = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted.length > max ? sorted.slice(0, max) : sorted;
}

export function fromLookup(
  answers: readonly { readonly address: string }[],
  port: number,
  protocol: 'http' | 'https',
  max = MAX_DNS_ANSWERS,
): EndpointAddress[] {
  const byId = new Map<string, EndpointAddress>();
  for (const answer of answers) {
    const address = makeAddress(protocol, answer.address, port, { weight: 1, tags: NO_TAGS, meta: NO_META });
    byId.set(address.id, address);
  }
  return capped(byId, max);
}

export function fromSrv(records: readonly SrvRecord[], protocol: 'http' | 'https', max = MAX_DNS_ANSWERS): EndpointAddress[] {
  let lowest = Number.POSITIVE_INFINITY;
  for (const record of records) lowest = Math.min(lowest, record.priority);
  const byId = new Map<string, EndpointAddress>();
  for (const record of records) {
    // "." as target means "no service here" (RFC 2782).
    if (record.priority !== lowest || record.name === '' || record.name === '.') continue;
    const host = record.name.endsWith('.') ? record.name.slice(0, -1) : record.name;
    // NOTE: SRV weight 0 means "rarely"; balancers treat weight as a positive share, so 0 counts as 1.
    const weight = Math.max(1, record.weight);
    const address = makeAddress(protocol, host, record.port, { weight, tags: NO_TAGS, meta: NO_META });
    const seen = byId.get(address.id);
    byId.set(address.id, seen === undefined ? address : { ...address, weight: seen.weight + weight });
  }
  return capped(byId, max);
}

/** A fingerprint of a list: equal fingerprints mean no membership or weight change. */
export function fingerprint(endpoints: readonly EndpointAddress[]): string {
  let key = '';
  for (const endpoint of endpoints) key += `${endpoint.id}*${endpoint.weight} `;
  return key;
}
