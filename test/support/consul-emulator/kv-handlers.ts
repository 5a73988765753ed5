/**
 * `/v1/kv/:key` (KVDOC, KVHTTP): GET (single, `recurse`, `keys` with `separator`, `raw`), PUT
 * (`flags`, `cas`; `acquire`/`release` are refused, sessions are not emulated) and DELETE
 * (`recurse`, `cas`). Every GET goes through `blockingRead`, so a 404 carries index headers too.
 */
import { demand } from './acl.ts';
import { type BlockingOptions, blockingRead, type IndexedReply } from './blocking.ts';
import type { Exchange, Reply, Route } from './exchange.ts';
import { HttpError } from './http-error.ts';
import type { KvEntry, KvStore } from './kv-store.ts';

/** Consul's default `kv_max_value_size`. */
const MAX_VALUE_BYTES = 512 * 1024;

export function kvRoutes(kv: KvStore, blocking: BlockingOptions): Route[] {
  return [
    {
      path: '/v1/kv/',
      prefix: true,
      methods: {
        GET: (ex) => (ex.params.has('keys') ? getKeys(kv, blocking, ex) : get(kv, blocking, ex)),
        PUT: (ex) => put(kv, ex),
        DELETE: (ex) => remove(kv, ex),
      },
    },
  ];
}

/** Consul's JSON form of an entry: DirEntry's field order, Value base64 (null when empty). */
export function entryJson(entry: KvEntry): Record<string, unknown> {
  return {
    LockIndex: entry.lockIndex,
    Key: entry.key,
    Flags: entry.flags,
    Value: entry.value === null ? null : entry.value.toString('base64'),
    CreateIndex: entry.createIndex,
    ModifyIndex: entry.modifyIndex,
  };
}

function get(kv: KvStore, blocking: BlockingOptions, ex: Exchange): Promise<Reply> {
  const key = ex.rest;
  if (ex.params.has('recurse')) {
    return blockingRead(ex, blocking, () => {
      const visible = kv.list(key).filter((e) => ex.identity.allows('read', e.key));
      const filtered = visible.length < kv.list(key).length && !ex.identity.anonymous;
      const headers = filtered ? { 'X-Consul-Results-Filtered-By-Acls': 'true' } : undefined;
      const index = kv.listIndex(key);
      if (visible.length === 0) return notFound(index, headers);
      return { json: visible.map(entryJson), index, ...(headers && { headers }) };
    });
  }
  missingKey(key);
  demand(ex.identity, 'read', key);
  const raw = ex.params.has('raw');
  return blockingRead(ex, blocking, () => {
    const entry = kv.get(key);
    const index = kv.keyIndex(key);
    if (entry === undefined) return notFound(index);
    if (!raw) return { json: [entryJson(entry)], index };
    // Served as inert text (CVE-2020-25864): a browser must not render a stored value.
    return {
      raw: entry.value ?? Buffer.alloc(0),
      index,
      contentType: 'text/plain',
      headers: { 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': 'sandbox' },
    };
  });
}

function getKeys(kv: KvStore, blocking: BlockingOptions, ex: Exchange): Promise<Reply> {
  const prefix = ex.rest;
  const separator = ex.params.get('separator') ?? ex.params.get('seperator') ?? '';
  return blockingRead(ex, blocking, () => {
    const keys: string[] = [];
    for (const entry of kv.list(prefix)) {
      if (!ex.identity.allows('read', entry.key)) continue;
      const cut = separator === '' ? -1 : entry.key.indexOf(separator, prefix.length);
      const key = cut === -1 ? entry.key : entry.key.slice(0, cut + separator.length);
      if (keys.at(-1) !== key) keys.push(key);
    }
    const index = kv.listIndex(prefix);
    // An empty listing of everything is `[]`; of a prefix, a 404 (KVHTTP `KVSGetKeys`).
    if (keys.length === 0 && prefix !== '') return notFound(index);
    return { json: keys, index };
  });
}

function put(kv: KvStore, ex: Exchange): Reply {
  const key = ex.rest;
  missingKey(key);
  conflicting(ex, ['cas', 'acquire', 'release']);
  if (ex.params.has('acquire') || ex.params.has('release')) {
    throw new HttpError(500, `invalid session "${ex.params.get('acquire') ?? ex.params.get('release')}"`);
  }
  if (ex.body.length > MAX_VALUE_BYTES) {
    throw new HttpError(
      413,
      `Request body(${ex.body.length} bytes) too large, max size: ${MAX_VALUE_BYTES} bytes. See https://developer.hashicorp.com/consul/docs/agent/config/config-files#kv_max_value_size.`,
    );
  }
  demand(ex.identity, 'write', key);
  const flags = ex.params.has('flags') ? parseUint(ex.params.get('flags') ?? '') : 0;
  const cas = ex.params.has('cas') ? parseUint(ex.params.get('cas') ?? '') : undefined;
  // An empty body stores a null value, as Consul does (it only reads a body with Content-Length > 0).
  const ok = kv.put(key, ex.body.length === 0 ? null : ex.body, flags, cas);
  return { json: ok };
}

function remove(kv: KvStore, ex: Exchange): Reply {
  const key = ex.rest;
  conflicting(ex, ['recurse', 'cas']);
  if (ex.params.has('recurse')) {
    demand(ex.identity, 'write', key);
    kv.deleteTree(key);
    return { json: true };
  }
  missingKey(key);
  demand(ex.identity, 'write', key);
  const cas = ex.params.has('cas') ? parseUint(ex.params.get('cas') ?? '') : undefined;
  return { json: kv.delete(key, cas) };
}

function notFound(index: number, headers?: Record<string, string>): IndexedReply {
  // Consul's KV 404 is an empty body, but its index headers are set before the status.
  return { status: 404, text: '', index, ...(headers && { headers }) };
}

function missingKey(key: string): void {
  if (key === '') throw new HttpError(400, 'Missing key name');
}

function conflicting(ex: Exchange, flags: string[]): void {
  if (flags.filter((f) => ex.params.has(f)).length > 1) throw new HttpError(400, `Conflicting flags: ${ex.rawQuery}\n`);
}

/** Go's strconv.ParseUint(s, 10, 64); its error is a plain error, which Consul answers with 500. */
function parseUint(text: string): number {
  if (!/^\d+$/.test(text) || BigInt(text) > 2n ** 64n - 1n) {
    throw new HttpError(500, `strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
  }
  return Number(text);
}
