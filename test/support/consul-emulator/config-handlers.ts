/**
 * `/v1/config` (CFGDOC, CFGGO): PUT an entry (optionally `?cas`), GET one by kind and name
 * (blocking; 404 `Config entry not found for "<kind>" / "<name>"` with index headers), GET all
 * of a kind, DELETE (`{}`, or a bool with `?cas`). Entries are stored as sent, not normalised
 * the way Consul fills defaults in; the routing code reads the fields it wrote.
 */
import { demand } from './acl.ts';
import { type BlockingOptions, blockingRead } from './blocking.ts';
import { CONFIG_KINDS, type ConfigStore, configEntryJson } from './config-store.ts';
import type { Exchange, Reply, Route } from './exchange.ts';
import { HttpError } from './http-error.ts';
import { field } from './registration.ts';

export function configRoutes(store: ConfigStore, blocking: BlockingOptions): Route[] {
  return [
    { path: '/v1/config', prefix: false, methods: { PUT: (ex) => put(store, ex) } },
    {
      path: '/v1/config/',
      prefix: true,
      methods: { GET: (ex) => get(store, blocking, ex), DELETE: (ex) => remove(store, ex) },
    },
  ];
}

function put(store: ConfigStore, ex: Exchange): Reply {
  demand(ex.identity, 'write');
  let body: unknown;
  try {
    body = JSON.parse(ex.body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `Request decoding failed: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'Request decoding failed: expected a JSON object');
  const entry = body as Record<string, unknown>;
  const kind = String(field(entry, 'Kind') ?? '');
  if (!CONFIG_KINDS.includes(kind)) throw new HttpError(400, `Request decoding failed: invalid config entry kind: ${kind}`);
  const name = String(field(entry, 'Name') ?? '');
  if (name === '') throw new HttpError(400, 'Name is required');
  const cas = ex.params.has('cas') ? Number(ex.params.get('cas')) : undefined;
  if (cas !== undefined && !Number.isInteger(cas)) throw new HttpError(400, 'Request decoding failed: invalid cas');
  return { json: store.put(kind, name, entry, cas) };
}

function get(store: ConfigStore, blocking: BlockingOptions, ex: Exchange): Promise<Reply> {
  const [kind = '', name, ...extra] = ex.rest.split('/');
  if (kind === '' || extra.length > 0) throw new HttpError(400, 'Must provide either a kind or both kind and name');
  demand(ex.identity, 'read');
  if (name === undefined || name === '') {
    return blockingRead(ex, blocking, () => {
      const entries = store.list(kind);
      // Go serialises the RPC's nil slice for no entries as null [inference, CONSUL.md §3.1].
      return { json: entries.length === 0 ? null : entries.map(configEntryJson), index: store.tableIndex() };
    });
  }
  return blockingRead(ex, blocking, () => {
    const entry = store.get(kind, name);
    if (entry === undefined) {
      return { status: 404, text: `Config entry not found for ${JSON.stringify(kind)} / ${JSON.stringify(name)}`, index: store.tableIndex() };
    }
    return { json: configEntryJson(entry), index: entry.modifyIndex };
  });
}

function remove(store: ConfigStore, ex: Exchange): Reply {
  const [kind = '', name = ''] = ex.rest.split('/');
  if (kind === '' || name === '') throw new HttpError(404, 'Must provide both a kind and name to delete');
  demand(ex.identity, 'write');
  if (ex.params.has('cas')) return { json: store.delete(kind, name, Number(ex.params.get('cas'))) };
  store.delete(kind, name);
  return { json: {} };
}
