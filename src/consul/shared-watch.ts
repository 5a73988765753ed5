/**
 * What every process-wide shared Consul watch has in common (the KV control prefix in
 * src/control/consul-kv-watch.ts, each service's health in src/discovery/consul-health-watch.ts):
 * one watch per distinct question per process, refcounted, so Consul's cost is one parked
 * request per question however many meshes and clients ask it (DESIGN §4). A subscriber that
 * arrives late first hears what the watch already knows; the last one to leave stops it.
 *
 * The question's identity starts with the agent's (`agentIdentity`): its URL, its token and
 * CA (ACLs decide what is read; kept only as digests, never the secret) and its datacenter.
 */
import { createHash } from 'node:crypto';
import type { ConsulClientOptions } from './client.ts';

/** The agent's part of a shared watch's key; `datacenter` overrides the agent's own. */
export function agentIdentity(agent: ConsulClientOptions, datacenter: string | undefined = agent.datacenter): readonly unknown[] {
  return [agent.url, digest(agent.token), digest(agent.ca), datacenter ?? null];
}

function digest(value: string | Buffer | undefined): string | null {
  return value === undefined ? null : createHash('sha256').update(value).digest('hex');
}

/** One process-wide watch; its subscribers are listeners of type L. */
export abstract class SharedWatch<L> {
  readonly #listeners = new Set<L>();

  /** Tells a late subscriber what the watch already knows (through `tell`). */
  protected abstract replay(listener: L): void;

  /** Ends the watch: the last subscriber has left (it is already out of the registry). */
  protected abstract stop(): Promise<void>;

  /** Tells every subscriber. */
  protected broadcast(notify: (listener: L) => void): void {
    for (const listener of this.#listeners) deliver(() => notify(listener));
  }

  /** Tells one subscriber. */
  protected tell(listener: L, notify: (listener: L) => void): void {
    deliver(() => notify(listener));
  }

  /** For the registry. */
  static join<L>(watch: SharedWatch<L>, listener: L): void {
    watch.#listeners.add(listener);
    watch.replay(listener);
  }

  /** For the registry: true when `listener` was the last one. */
  static leave<L>(watch: SharedWatch<L>, listener: L): boolean {
    watch.#listeners.delete(listener);
    return watch.#listeners.size === 0;
  }

  static stopWatch<L>(watch: SharedWatch<L>): Promise<void> {
    return watch.stop();
  }
}

export interface Joined<W> {
  readonly watch: W;
  /** Leaves the watch (once; later calls return the same promise); the last to leave stops it. */
  close(): Promise<void>;
}

/** The process-wide registry of one kind of shared watch, keyed by the question. */
export class SharedWatches<L, W extends SharedWatch<L>> {
  readonly #watches = new Map<string, W>();

  /** Subscribes `listener` to the watch for `identity`, starting one (`create`) if none runs. */
  join(identity: readonly unknown[], create: () => W, listener: L): Joined<W> {
    const key = JSON.stringify(identity);
    let watch = this.#watches.get(key);
    if (watch === undefined) {
      watch = create();
      this.#watches.set(key, watch);
    }
    const joined = watch;
    SharedWatch.join(joined, listener);
    let closed: Promise<void> | undefined;
    return {
      watch: joined,
      close: () => {
        closed ??= this.#leave(key, joined, listener);
        return closed;
      },
    };
  }

  /** Watches running now (one per distinct question). */
  get size(): number {
    return this.#watches.size;
  }

  async #leave(key: string, watch: W, listener: L): Promise<void> {
    if (!SharedWatch.leave(watch, listener)) return;
    // Out of the registry first: a subscriber arriving now starts a fresh watch.
    if (this.#watches.get(key) === watch) this.#watches.delete(key);
    await SharedWatch.stopWatch(watch);
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
