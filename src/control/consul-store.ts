/**
 * Consul KV as the control plane: `control: 'consul://host:port/prefix'` reads
 * `<prefix>/defaults` and `<prefix>/services/<name>` (consul-layout.ts) through the process's
 * one blocking watch of that prefix (consul-kv-watch.ts). Like every store it only fetches
 * and parses: the mesh validates each snapshot as a whole, and a rejection names the KV key
 * and the path inside it through the snapshot's `keyOf`.
 *
 * Consul unreachable, refusing (403: the ACL token) or failing (5xx) is `unavailable`: the
 * last good config stays in force while the watch retries with backoff, and a change made
 * meanwhile applies when Consul answers again.
 */
import type { ConsulClientOptions } from '../consul/client.ts';
import { storeAlreadyWatched } from '../core/mesh-errors.ts';
import { normalizePrefix } from './consul-layout.ts';
import type { ControlListener, ControlStore } from './control-store.ts';
import { type KvSubscription, watchKvPrefix } from './consul-kv-watch.ts';

export class ConsulControlStore implements ControlStore {
  readonly source: string;
  readonly #agent: () => ConsulClientOptions;
  readonly #prefix: string;
  #subscription: KvSubscription | undefined;
  #closed = false;

  /**
   * `agent` is the Consul agent to read (the mesh's); `prefix` the KV prefix. `source` names
   * the agent actually read, which the mesh's `consul` option may have chosen over the URL's.
   */
  constructor(agent: () => ConsulClientOptions, prefix: string) {
    this.#agent = agent;
    this.#prefix = normalizePrefix(prefix);
    this.source = `consul://${new URL(agent().url).host}/${this.#prefix}`;
  }

  async watch(listener: ControlListener): Promise<void> {
    if (this.#subscription !== undefined) throw storeAlreadyWatched(this.source);
    if (this.#closed) return;
    this.#subscription = watchKvPrefix(this.#agent(), this.#prefix, {
      outcome: (outcome) => {
        if (this.#closed) return;
        if (outcome.kind === 'snapshot') listener.snapshot(outcome.document, outcome.keyOf);
        else if (outcome.kind === 'rejected') listener.rejected(outcome.error);
        else listener.unavailable(outcome.error);
      },
      available: () => {
        if (!this.#closed) listener.available?.();
      },
    });
    await this.#subscription.ready;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#subscription?.close();
  }

}
