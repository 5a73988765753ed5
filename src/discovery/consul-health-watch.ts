/**
 * One blocking query per watched Consul service per process (DESIGN §4). Every client of a
 * service, in every mesh of the process, that asks the same agent (same URL, token and CA)
 * for the same service, datacenter, tags and passing filter shares one watch: Consul's cost
 * is a parked request per distinct question, not per caller. The watch is refcounted
 * (consul/shared-watch.ts); the last subscriber to leave stops it and closes its connection.
 *
 * NOTE: the shared watch makes its own Consul client from the agent's options rather than
 * borrowing a subscriber's: the mesh that started it may close first while others still watch.
 */
import { BlockingWatch } from '../consul/blocking-watch.ts';
import { ConsulClient, type ConsulClientOptions } from '../consul/client.ts';
import { agentIdentity, SharedWatch, SharedWatches } from '../consul/shared-watch.ts';
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
  /** The instances Consul reports now (every answer with something new, or after a failure; the first always). */
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

const watches = new SharedWatches<HealthListener, SharedHealthWatch>();

/** Watches a service's health, sharing the blocking query with every other subscriber to the same question. */
export function watchHealth(target: HealthTarget, listener: HealthListener): HealthSubscription {
  const { watch, close } = watches.join(questionOf(target), () => new SharedHealthWatch(target), listener);
  return {
    ready: watch.ready,
    get index() {
      return watch.index;
    },
    close,
  };
}

/** Shared health watches open in this process (one per distinct question). */
export function sharedHealthWatches(): number {
  return watches.size;
}

/** Tags match case-insensitively in Consul: `V1` and `v1` are one question. */
function questionOf(target: HealthTarget): readonly unknown[] {
  const tags = [...new Set(target.tags.map((tag) => tag.toLowerCase()))].sort();
  return [...agentIdentity(target.agent, target.datacenter ?? target.agent.datacenter), target.service, tags, target.passingOnly];
}

class SharedHealthWatch extends SharedWatch<HealthListener> {
  readonly #client: ConsulClient;
  readonly #watch: BlockingWatch<HealthServiceEntry[]>;
  readonly ready: Promise<void>;
  #entries: readonly HealthServiceEntry[] | undefined;
  /** The last answer delivered, as text, so an identical one is dropped. */
  #content: string | undefined;
  #index = 0n;
  /** The failure since the last answer, if the latest round failed. */
  #lastError: MeshError | undefined;

  constructor(target: HealthTarget) {
    super();
    const datacenter = target.datacenter ?? target.agent.datacenter;
    this.#client = new ConsulClient({ ...target.agent, ...(datacenter === undefined ? {} : { datacenter }) });
    const { service, passingOnly, tags } = target;
    this.#watch = new BlockingWatch<HealthServiceEntry[]>({
      what: `health ${service}`,
      ...(target.agent.clock === undefined ? {} : { clock: target.agent.clock }),
      // Background, first round included: start-up waits on its own bounded call timer (consul-resolver.ts).
      query: (index, wait, signal) => this.#client.healthService(service, { index, wait, signal, passing: passingOnly, tags, background: true }),
      onChange: (entries, index) => {
        this.#index = index;
        // The same answer again is not news (Consul wakes a blocking query on an idempotent
        // write; an agent answering index 0 makes BlockingWatch deliver every round), unless
        // a failure came since: then it says Consul is back with nothing changed.
        const content = JSON.stringify(entries);
        if (content === this.#content && this.#lastError === undefined) return;
        this.#content = content;
        this.#entries = entries;
        this.#lastError = undefined;
        this.broadcast((listener) => listener.change(entries, index));
      },
      onError: (error) => {
        this.#lastError = error;
        this.broadcast((listener) => listener.error(error));
      },
    });
    this.ready = this.#watch.start();
  }

  /** The last index Consul answered with (0n before the first answer). */
  get index(): bigint {
    return this.#index;
  }

  protected replay(listener: HealthListener): void {
    const entries = this.#entries;
    const error = this.#lastError;
    if (entries !== undefined) this.tell(listener, (l) => l.change(entries, this.#index));
    if (error !== undefined) this.tell(listener, (l) => l.error(error));
  }

  protected async stop(): Promise<void> {
    await this.#watch.stop();
    await this.#client.close();
  }
}
