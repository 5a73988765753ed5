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
import { systemClock } from '../core/clock.ts';
import { MeshError } from '../core/errors.ts';
import { storeAlreadyWatched } from '../core/mesh-errors.ts';
import { STARTUP_WAIT_MS } from '../discovery/consul-resolver.ts';
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
    // A hung agent (accepting connections, answering nothing) must not hold createMesh for the
    // read's whole timeout: after the bound Consul discovery also uses, the mesh starts on its
    // cached or bootstrap config, and the watch's answer applies whenever it comes.
    const agent = this.#agent();
    const clock = agent.clock ?? systemClock;
    let timer: { cancel(): void } | undefined;
    const bounded = new Promise<boolean>((resolve) => {
      timer = clock.setCallTimer(() => resolve(false), STARTUP_WAIT_MS);
    });
    const answered = await Promise.race([this.#subscription.ready.then(() => true), bounded]);
    timer?.cancel();
    if (!answered && !this.#closed) {
      listener.unavailable(
        new MeshError('MESH_CONSUL_FAILED', `Consul at ${new URL(agent.url).origin} did not answer the first read of ${this.source} within ${STARTUP_WAIT_MS} ms; the mesh starts on its last good (cached) or bootstrap config and applies Consul's answer when it comes; check the agent`),
      );
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#subscription?.close();
  }

}
