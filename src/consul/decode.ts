/**
 * Consul's answers as meshlet's types: the query-meta headers (X-Consul-Index as a BigInt:
 * it is a uint64, and a watch compares it), KV entries with their base64 values decoded,
 * and JSON bodies checked to have the shape a caller is promised.
 */
import type { ConsulReply } from './http.ts';
import { unreadable } from './failures.ts';
import type { KvEntry, QueryResult } from './types.ts';

/** The query meta Consul sends with every read (HTTPGO `setMeta`), around `value`. */
export function queryResult<T>(reply: ConsulReply, value: T): QueryResult<T> {
  return {
    value,
    index: indexHeader(reply),
    knownLeader: knownLeaderHeader(reply),
    lastContactMs: lastContactHeader(reply),
    defaultAclPolicy: defaultAclPolicyHeader(reply),
  };
}

/**
 * The body as JSON. Only KV entries get BigInt indexes: health and config-entry objects pass
 * through to callers that may JSON.stringify them (state(), caches), which a BigInt breaks.
 */
export function jsonBody(reply: ConsulReply, reviver?: (key: string, value: unknown, context?: { source?: string }) => unknown): unknown {
  try {
    return JSON.parse(reply.body.toString('utf8'), reviver);
  } catch (error) {
    throw unreadable(reply.failed, 'a body that is not JSON', error);
  }
}

export function jsonArray(reply: ConsulReply, reviver?: Parameters<typeof jsonBody>[1]): unknown[] {
  const body = jsonBody(reply, reviver);
  if (!Array.isArray(body)) throw unreadable(reply.failed, 'JSON that is not a list', undefined);
  return body;
}

export function jsonObject(reply: ConsulReply): Record<string, unknown> {
  const body = jsonBody(reply);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unreadable(reply.failed, 'JSON that is not an object', undefined);
  return body as Record<string, unknown>;
}

/** `true`/`false`, the answer of KV PUT and DELETE. */
export function booleanBody(reply: ConsulReply): boolean {
  const text = reply.body.toString('utf8').trim();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw unreadable(reply.failed, `${JSON.stringify(text.slice(0, 40))} where true or false belongs,`, undefined);
}

export function kvEntries(reply: ConsulReply): KvEntry[] {
  return jsonArray(reply, bigIntIndexes).map((item) => kvEntry(reply, item));
}

function kvEntry(reply: ConsulReply, item: unknown): KvEntry {
  const raw = item as { Key?: unknown; Value?: unknown; Flags?: unknown; CreateIndex?: unknown; ModifyIndex?: unknown };
  if (typeof raw?.Key !== 'string') throw unreadable(reply.failed, 'a KV entry without a Key', undefined);
  if (raw.Value !== null && raw.Value !== undefined && typeof raw.Value !== 'string') throw unreadable(reply.failed, `a KV entry whose Value is not base64 (key ${raw.Key})`, undefined);
  return {
    key: raw.Key,
    value: typeof raw.Value === 'string' ? Buffer.from(raw.Value, 'base64') : null,
    flags: typeof raw.Flags === 'bigint' ? Number(raw.Flags) : Number(raw.Flags ?? 0),
    createIndex: toBigInt(raw.CreateIndex),
    modifyIndex: toBigInt(raw.ModifyIndex),
  };
}

const INDEX_FIELDS = new Set(['CreateIndex', 'ModifyIndex', 'LockIndex']);

/**
 * Raft indexes are uint64: past 2^53 a JSON number loses digits, and a `cas` with a rounded
 * ModifyIndex would never match. The reviver reads them from their source text.
 */
function bigIntIndexes(key: string, value: unknown, context?: { source?: string }): unknown {
  if (!INDEX_FIELDS.has(key) || typeof value !== 'number') return value;
  return context?.source !== undefined && /^\d+$/.test(context.source) ? BigInt(context.source) : toBigInt(value);
}

function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : 0n;
}

function header(reply: ConsulReply, name: string): string | undefined {
  const value = reply.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function indexHeader(reply: ConsulReply): bigint {
  const value = header(reply, 'x-consul-index');
  return value !== undefined && /^\d{1,20}$/.test(value) ? BigInt(value) : 0n;
}

function knownLeaderHeader(reply: ConsulReply): boolean | undefined {
  const value = header(reply, 'x-consul-knownleader');
  return value === undefined ? undefined : value === 'true';
}

function defaultAclPolicyHeader(reply: ConsulReply): 'allow' | 'deny' | undefined {
  const value = header(reply, 'x-consul-default-acl-policy');
  return value === 'allow' || value === 'deny' ? value : undefined;
}

function lastContactHeader(reply: ConsulReply): number | undefined {
  const value = header(reply, 'x-consul-lastcontact');
  const ms = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(ms) ? ms : undefined;
}
