/**
 * Consul discovery: the passing instances of a Consul service, from a blocking watch of
 * `/v1/health/service/<name>` shared by everyone in the process asking the same question
 * (consul-health-watch.ts). Consul's answer is authoritative: an instance that fails its
 * check or deregisters leaves the list at once, and the endpoint set drains it (its calls in
 * flight finish, new ones go elsewhere).
 *
 * When Consul cannot be reached the last list stays in force and state() says so; with a
 * cache (the mesh's `cacheDir`), a process that starts during an outage uses the list last
 * saved, and state() says where the endpoints came from and how old they are.
 */
import type { ConsulClientOptions } from '../consul/client.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { HealthServiceEntry } from '../consul/types.ts';
import type { MeshError } from '../core/errors.ts';
import type { DiscoveryPolicy } from '../config/policy.ts';
import { endpointsFromHealth, endpointsKey, type SkippedInstance } from './consul-endpoints.ts';
import { type HealthSubscription, watchHealth } from './consul-health-watch.ts';
import type { KnownEndpointsStore, SavedEndpoints } from './known-endpoints.ts';
import type { Resolver, ResolverListener } from './resolver.ts';

export type ConsulDiscoveryPolicy = Extract<DiscoveryPolicy, { type: 'consul' }>;

export interface ConsulResolverOptions {
  /** The service's name in the mesh config (names its cache file). */
  readonly name: string;
  readonly discovery: ConsulDiscoveryPolicy;
  /** Consul registers addresses, not schemes: `https` when the service's policy configures TLS. */
  readonly protocol: 'http' | 'https';
  /** The agent to ask; throws MESH_CONFIG_INVALID when the mesh has none (reported, not thrown: see start). */
  readonly agent: () => ConsulClientOptions;
  readonly cache?: KnownEndpointsStore | undefined;
}

type Origin = 'none' | 'consul' | 'cache';

/** How long start-up waits for Consul's first answer before going on without it (a local agent answers in ms). */
export const STARTUP_WAIT_MS = 2000;

export class ConsulResolver implements Resolver {
  readonly #options: ConsulResolverOptions;
  /** What was asked, for the cache: a list saved for other tags or another datacenter is not this list. */
  readonly #question: string;
  #listener: ResolverListener | undefined;
  #subscription: HealthSubscription | undefined;
  #origin: Origin = 'none';
  #saved: SavedEndpoints | undefined;
  #key: string | undefined;
  #skipped: readonly SkippedInstance[] = [];
  #lastError: string | undefined;
  /** The last failure without what was kept (the cache's start-up message says that itself). */
  #lastFailure: string | undefined;
  #closed = false;

  constructor(options: ConsulResolverOptions) {
    this.#options = options;
    const { service, tags, passingOnly, datacenter } = options.discovery;
    this.#question = JSON.stringify({ consul: service, tags, passingOnly, datacenter: datacenter ?? null, protocol: options.protocol });
  }

  async start(listener: ResolverListener): Promise<void> {
    this.#listener = listener;
    const { discovery } = this.#options;
    let agent: ConsulClientOptions;
    try {
      agent = this.#options.agent();
    } catch (error) {
      // NOTE: a config push can add Consul discovery to a mesh with no agent; that must show
      // in state() and events like any discovery failure, not break the config swap.
      this.#lastError = `Consul discovery of ${discovery.service} cannot start: ${(error as Error).message}`;
      listener.error(new Error(this.#lastError, { cause: error }));
      return;
    }
    this.#subscription = watchHealth(
      { agent, service: discovery.service, tags: discovery.tags, passingOnly: discovery.passingOnly, datacenter: discovery.datacenter },
      { change: (entries) => this.#onChange(entries), error: (error) => this.#onError(error) },
    );
    await this.#firstAnswer(agent.clock ?? systemClock);
    if (this.#origin !== 'none' || this.#closed) return;
    // A hung agent is unreachable too: the first read's own timeout is far longer than a start-up should wait.
    const hung = this.#lastError === undefined;
    if (hung) this.#lastError = `Consul did not answer the first health read of ${discovery.service} within ${STARTUP_WAIT_MS} ms (still trying)`;
    const fromCache = await this.#startFromCache();
    if (hung && !fromCache && this.#origin === 'none' && !this.#closed) listener.error(new Error(`${this.#lastError}; no endpoints yet`));
  }

  /** The shared watch's first answer or failure, or the start-up bound, whichever comes first. */
  #firstAnswer(clock: Clock): Promise<void> {
    return new Promise((resolve) => {
      const timer = clock.setCallTimer(resolve, STARTUP_WAIT_MS);
      void this.#subscription!.ready.then(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#subscription?.close();
  }

  state(): Record<string, unknown> {
    const { service, tags, passingOnly, datacenter } = this.#options.discovery;
    const cache = this.#options.cache;
    return {
      type: 'consul',
      service,
      tags,
      passingOnly,
      datacenter: datacenter ?? null,
      status: this.#lastError === undefined ? (this.#origin === 'none' ? 'starting' : 'ok') : 'unavailable',
      lastError: this.#lastError ?? null,
      /** Where the endpoints in force came from: Consul, the cache (Consul unreachable since start-up), or nowhere yet. */
      endpointsFrom: this.#origin,
      cachedAgeMs: this.#origin === 'cache' && this.#saved !== undefined && cache !== undefined ? cache.ageOf(this.#saved) : null,
      index: (this.#subscription?.index ?? 0n).toString(),
      skipped: this.#skipped,
    };
  }

  #onChange(entries: readonly HealthServiceEntry[]): void {
    if (this.#closed) return;
    const listener = this.#listener!;
    const { endpoints, skipped } = endpointsFromHealth(entries, this.#options.protocol, this.#options.discovery.passingOnly);
    this.#lastError = undefined;
    this.#reportSkipped(skipped);
    const key = endpointsKey(endpoints);
    const changed = this.#origin !== 'consul' || key !== this.#key;
    this.#origin = 'consul';
    this.#key = key;
    // Consul wakes a blocking query for changes that are not ours (a check's output, a
    // filtered-out instance): an unchanged list is not news for the balancer.
    if (!changed) {
      listener.confirmed?.();
      return;
    }
    listener.update(endpoints);
    this.#options.cache?.write(this.#options.name, this.#question, endpoints);
  }

  #onError(error: MeshError): void {
    if (this.#closed) return;
    const kept = this.#origin === 'none' ? 'no endpoints yet' : `keeping the last endpoints (from ${this.#origin === 'cache' ? 'the cache' : 'Consul'})`;
    this.#lastFailure = `Consul discovery of ${this.#options.discovery.service} failed: ${error.message}`;
    const reported = new Error(`${this.#lastFailure}; ${kept}`, { cause: error });
    this.#lastError = reported.message;
    this.#listener!.error(reported);
  }

  /** True when the cached list is now in force. */
  async #startFromCache(): Promise<boolean> {
    const saved = await this.#options.cache?.read(this.#options.name, this.#question);
    // Consul may have answered while the file was read: its answer wins.
    if (saved === undefined || this.#origin !== 'none' || this.#closed) return false;
    this.#origin = 'cache';
    this.#saved = saved;
    this.#listener!.update(saved.endpoints);
    // The update cleared the watch's error; Consul is still unreachable. state() says the same as the event.
    const count = saved.endpoints.length;
    this.#lastError = `${this.#lastFailure ?? this.#lastError}; using ${count} ${count === 1 ? 'endpoint' : 'endpoints'} from the cache`;
    this.#listener!.error(new Error(this.#lastError));
    return true;
  }

  #reportSkipped(skipped: readonly SkippedInstance[]): void {
    const before = JSON.stringify(this.#skipped);
    this.#skipped = skipped;
    if (skipped.length === 0 || JSON.stringify(skipped) === before) return;
    const list = skipped.map((s) => `${s.id}: ${s.reason}`).join('; ');
    this.#listener!.warning?.(
      new Error(`Consul lists ${skipped.length} unusable instance(s) of ${this.#options.discovery.service}, left out: ${list}; fix their registrations`),
    );
  }
}
