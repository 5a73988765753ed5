/**
 * meshlet's own Consul client: the endpoints of Consul's HTTP API that the control store,
 * discovery, registration and routing use, typed, over one undici Agent per client. Why not
 * the `consul` npm package: README "Why meshlet has its own Consul client" (no longer
 * maintained, no config-entry API, an unthrottled watch, blocking options missing from its types).
 *
 * Reads take QueryOptions (blocking `index`/`wait`, `stale`, a signal) and return the value
 * with Consul's query meta; the one loop over blocking reads is blocking-watch.ts. Every
 * failure is a MeshError MESH_CONSUL_FAILED with Consul's status when it answered.
 */
import { type Clock, systemClock } from '../core/clock.ts';
import { booleanBody, jsonArray, jsonBody, jsonObject, kvEntries, queryResult } from './decode.ts';
import { goDurationMs } from './duration.ts';
import { ConsulHttp, type ConsulRequest } from './http.ts';
import type { HealthServiceEntry, KvEntry, QueryOptions, QueryResult, ServiceRegistration } from './types.ts';
import { consulOrigin } from './url.ts';

export type { HealthServiceEntry, KvEntry, QueryOptions, QueryResult, ServiceCheckDefinition, ServiceRegistration } from './types.ts';

export interface ConsulClientOptions {
  /** 'http://127.0.0.1:8500' | 'https://…' */
  readonly url: string;
  /** Sent only as X-Consul-Token. */
  readonly token?: string;
  /** PEM, for https agents. */
  readonly ca?: string | Buffer;
  /** ?dc= on reads and writes of the catalog, health, KV and config entries. */
  readonly datacenter?: string;
  readonly clock?: Clock;
  /** How long a non-blocking request may take, and a blocking one past its wait (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Where the token comes from, as a 403's advice names it (default: the mesh's `CONSUL_HTTP_TOKEN or the consul.token option`). */
  readonly tokenHint?: string;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

type Query = Record<string, string | boolean | bigint | number | undefined | readonly string[]>;

export class ConsulClient {
  /** The agent's URL without credentials, for messages. */
  readonly address: string;
  readonly #http: ConsulHttp;
  readonly #datacenter: string | undefined;

  constructor(options: ConsulClientOptions) {
    this.address = consulOrigin(options.url, 'url');
    this.#datacenter = options.datacenter === '' ? undefined : options.datacenter;
    this.#http = new ConsulHttp({
      origin: this.address,
      token: options.token,
      ca: options.ca,
      clock: options.clock ?? systemClock,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      tokenHint: options.tokenHint ?? 'CONSUL_HTTP_TOKEN or the consul.token option',
    });
  }

  /** Every key under `prefix` (`?recurse`); none (Consul's 404) is `[]`. */
  async kvList(prefix: string, q: QueryOptions = {}): Promise<QueryResult<KvEntry[]>> {
    const reply = await this.#read(`/v1/kv/${keyPath(prefix)}`, { recurse: true }, q, true);
    return queryResult(reply, reply.status === 404 ? [] : kvEntries(reply));
  }

  /** One key; a missing key (Consul's 404) is `undefined`. */
  async kvGet(key: string, q: QueryOptions = {}): Promise<QueryResult<KvEntry | undefined>> {
    const reply = await this.#read(`/v1/kv/${keyPath(key)}`, {}, q, true);
    return queryResult(reply, reply.status === 404 ? undefined : kvEntries(reply)[0]);
  }

  /** Writes the key; with `cas`, only if its ModifyIndex is still that (0n: only if absent). False when the cas lost. */
  async kvPut(key: string, value: string | Buffer, o: { cas?: bigint; flags?: number } = {}): Promise<boolean> {
    const reply = await this.#write('PUT', `/v1/kv/${keyPath(key)}`, { cas: o.cas, flags: o.flags }, value);
    return booleanBody(reply);
  }

  /** Deletes the key (or, with `recurse`, the prefix); with `cas`, only if unchanged. False when the cas lost. */
  async kvDelete(key: string, o: { cas?: bigint; recurse?: boolean } = {}): Promise<boolean> {
    const reply = await this.#write('DELETE', `/v1/kv/${keyPath(key)}`, { cas: o.cas, recurse: o.recurse });
    return booleanBody(reply);
  }

  /** The instances of `name` with their checks; an unknown service is `[]` (Consul answers so). */
  async healthService(name: string, o: QueryOptions & { passing?: boolean; tags?: readonly string[] } = {}): Promise<QueryResult<HealthServiceEntry[]>> {
    const reply = await this.#read(`/v1/health/service/${segment(name)}`, { passing: o.passing, tag: o.tags }, o);
    return queryResult(reply, jsonArray(reply) as HealthServiceEntry[]);
  }

  /** Every service name in the catalog with the tags its instances carry. */
  async catalogServices(q: QueryOptions = {}): Promise<QueryResult<Record<string, string[]>>> {
    const reply = await this.#read('/v1/catalog/services', {}, q);
    return queryResult(reply, jsonObject(reply) as Record<string, string[]>);
  }

  /**
   * Registers a service (with its checks) in the local agent; re-registering the same ID
   * replaces it. `background`: nobody awaits it (a heartbeat's), so its timeout never keeps the process alive.
   */
  async registerService(definition: ServiceRegistration, o: { background?: boolean } = {}): Promise<void> {
    await this.#http.send({ method: 'PUT', path: '/v1/agent/service/register', body: JSON.stringify(definition), json: true, background: o.background === true });
  }

  async deregisterService(id: string): Promise<void> {
    await this.#http.send({ method: 'PUT', path: `/v1/agent/service/deregister/${segment(id)}` });
  }

  /** Sets a TTL check's status; `note` becomes the check's Output. `background` as for registerService. */
  async updateTtlCheck(checkId: string, status: 'pass' | 'warn' | 'fail', note?: string, o: { background?: boolean } = {}): Promise<void> {
    await this.#http.send({ method: 'PUT', path: `/v1/agent/check/${status}/${segment(checkId)}`, query: parameters({ note }), background: o.background === true });
  }

  /** A config entry (service-router, service-resolver, …); a missing one (Consul's 404) is `undefined`. */
  async configEntry(kind: string, name: string, q: QueryOptions = {}): Promise<QueryResult<unknown | undefined>> {
    const reply = await this.#read(`/v1/config/${segment(kind)}/${segment(name)}`, {}, q, true);
    return queryResult(reply, reply.status === 404 ? undefined : jsonBody(reply));
  }

  /** Every config entry of a kind (Consul's `null` for none is `[]`); the index is the config table's. */
  async configEntries(kind: string, q: QueryOptions = {}): Promise<QueryResult<unknown[]>> {
    const reply = await this.#read(`/v1/config/${segment(kind)}`, {}, q);
    const body = jsonBody(reply);
    return queryResult(reply, Array.isArray(body) ? body : []);
  }

  /** Ends requests in flight (blocking ones included: they reject with MESH_CLOSED) and the sockets. */
  close(): Promise<void> {
    return this.#http.close();
  }

  /** `missingIsAnswer`: a 404 means "not there" (KV, config entries) and carries the index to block on next. */
  #read(path: string, own: Query, q: QueryOptions, missingIsAnswer = false): ReturnType<ConsulHttp['send']> {
    const blocking = q.index !== undefined && q.index > 0n;
    const request: ConsulRequest = {
      method: 'GET',
      path,
      // NOTE: `wait` without `index` is pointless (Consul answers at once), so it is sent only with one.
      query: parameters({ dc: this.#datacenter, ...own, stale: q.stale === true, index: blocking ? q.index : undefined, wait: blocking ? q.wait : undefined }),
      signal: q.signal,
      blockingWaitMs: blocking ? (q.wait === undefined ? 0 : goDurationMs(q.wait, 'wait')) : undefined,
      background: q.background === true,
      accept: missingIsAnswer ? [404] : [],
    };
    return this.#http.send(request);
  }

  #write(method: 'PUT' | 'DELETE', path: string, own: Query, body?: string | Buffer): ReturnType<ConsulHttp['send']> {
    return this.#http.send({ method, path, query: parameters({ dc: this.#datacenter, ...own }), ...(body === undefined ? {} : { body }) });
  }
}

/**
 * Query parameters in Consul's forms: a flag that is true is present with no value (Consul
 * tests presence: `?stale=false` would still mean stale), false and undefined are absent,
 * a list repeats the parameter (`tag=a&tag=b`).
 */
function parameters(query: Query): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === false) continue;
    if (value === true) params.append(name, '');
    else if (Array.isArray(value)) for (const item of value) params.append(name, item);
    else params.append(name, String(value));
  }
  return params;
}

/** A KV key as a path: each segment encoded, the slashes kept (Consul's keys are paths). */
function keyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function segment(name: string): string {
  return encodeURIComponent(name);
}
