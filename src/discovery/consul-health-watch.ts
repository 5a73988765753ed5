/**
 * One blocking query per watched Consul service per process (DESIGN §4). Every client of a
 * service, in every mesh of the process, that asks the same agent (same URL, token and CA)
 * for the same service, datacenter, tags and passing filter shares one watch: Consul's cost
 * is a parked request per distinct question, not per caller. The watch is refcounted; the
 * last subscriber to leave stops it and closes its connection.
 *
 * NOTE: the shared watch makes its own Consul client from the agent's options rather than
 * borrowing a subscriber's: the mesh that started it may close first while others still watch.
 */
import { createHash } from 'node:crypto';
import { BlockingWatch } from '../consul/blocking-watch.ts';
import { ConsulClient, type ConsulClientOptions } from '../consul/client.ts';
import type { HealthServiceEntry } from '../consul/types.ts';
import type { MeshError } from '../core/errors.ts';

export interface HealthTarget {
  /** The agent to ask (its `datacenter` is overridden by the target's, when given). */
  readonly agent: ConsulClientOptions;
  readonly service: string;
  readonly tags: readonly string[];
  readonly passingOnly: boolean;
  readonly datacenter: string | undefined;
}

export interface HealthListener {
  /** The instances Consul reports now (every answer whose index moved; the first always). */
  change(entries: readonly HealthServiceEntry[], index: bigint): void;
  /** A round failed; the watch retries with backoff. What was reported before stays true. */
  error(error: MeshError): void;
}

export interface HealthSubscription {
  /** Resolves once the shared watch has had its first answer or its first failure. */
  readonly ready: Promise<void>;
  /** The last index Consul answered with (0n before the first answer). */
  readonly index: bigint;
  /** Leaves the watch; the last subscriber to leave stops it. */
  close(): Promise<void>;
}

const watches = new Map<string, SharedHealthWatch>();

/** Watches a service's health, sharing the blocking query with every other subscriber to the same question. */
export function watchHealth(target: HealthTarget, listener: HealthListener): HealthSubscription {
  const key = watchKey(target);
  let watch = watches.get(key);
  if (watch === undefined) {
    watch = new SharedHealthWatch(target, () => watches.delete(key));
    watches.set(key, watch);
  }
  return watch.subscribe(listener);
}

/** Shared health watches open in this process (one per distinct question). */
export function sharedHealthWatches(): number {
  return watches.size;
}

/** NOTE: the token is part of the question (ACLs filter answers) but is kept only as a digest. */
function watchKey(target: HealthTarget): string {
  const { agent } = target;
  const secret = (value: string | Buffer | undefined): string | null =>
    value === undefined ? null : createHash('sha256').update(value).digest('hex');
  const tags = [...new Set(target.tags.map((tag) => tag.toLowerCase()))].sort();
  return JSON.stringify([
    agent.url,
    secret(agent.token),
    secret(agent.ca),
    target.datacenter ?? agent.datacenter ?? null,
    target.service,
    tags,
    target.passingOnly,
  ]);
}

class SharedHealthWatch {
  readonly #listeners = new Set<HealthListener>();
  readonly #client: ConsulClient;
  readonly #watch: BlockingWatch<HealthServiceEntry[]>;
  readonly #ready: Promise<void>;
  readonly #onIdle: () => void;
  #entries: readonly HealthServiceEntry[] | undefined;
  #index = 0n;
  /** The failure since the last answer, if the latest round failed. */
  #lastError: MeshError | undefined;

  constructor(target: HealthTarget, onIdle: () => void) {
    this.#onIdle = onIdle;
    const datacenter = target.datacenter ?? target.agent.datacenter;
    this.#client = new ConsulClient({ ...target.agent, ...(datacenter === undefined ? {} : { datacenter }) });
    const { service, passingOnly, tags } = target;
    this.#watch = new BlockingWatch<HealthServiceEntry[]>({
      what: `health ${service}`,
      ...(target.agent.clock === undefined ? {} : { clock: target.agent.clock }),
      // Background, first round included: start-up waits on its own bounded call timer (consul-resolver.ts).
      query: (index, wait, signal) => this.#client.healthService(service, { index, wait, signal, passing: passingOnly, tags, background: true }),
      onChange: (entries, index) => {
        this.#entries = entries;
        this.#index = index;
        this.#lastError = undefined;
        for (const listener of this.#listeners) deliver(() => listener.change(entries, index));
      },
      onError: (error) => {
        this.#lastError = error;
        for (const listener of this.#listeners) deliver(() => listener.error(error));
      },
    });
    this.#ready = this.#watch.start();
  }

  subscribe(listener: HealthListener): HealthSubscription {
    this.#listeners.add(listener);
    // A late subscriber first hears what the watch already knows.
    if (this.#entries !== undefined) deliver(() => listener.change(this.#entries!, this.#index));
    if (this.#lastError !== undefined) deliver(() => listener.error(this.#lastError!));
    let closed: Promise<void> | undefined;
    const watch = this;
    return {
      ready: this.#ready,
      get index() {
        return watch.#index;
      },
      close: () => {
        closed ??= this.#leave(listener);
        return closed;
      },
    };
  }

  async #leave(listener: HealthListener): Promise<void> {
    this.#listeners.delete(listener);
    if (this.#listeners.size > 0) return;
    // Out of the registry first: a subscriber arriving now starts a fresh watch.
    this.#onIdle();
    await this.#watch.stop();
    await this.#client.close();
  }
}

/** One subscriber's bug must not starve the others: it surfaces off this stack, as an emitter's would. */
function deliver(notify: () => void): void {
  try {
    notify();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
