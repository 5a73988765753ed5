/**
 * One recursive blocking query per KV prefix per process (DESIGN §4): every mesh in the
 * process that reads the same prefix from the same agent (URL, token, CA, datacenter) shares
 * one watch, refcounted (consul/shared-watch.ts); the last to leave stops it and closes its connection. Each answer is
 * assembled into one document (consul-layout.ts) and handed to every subscriber, which
 * validates it as a whole; an answer whose keys do not parse is a rejection naming the keys.
 *
 * What an answer means is decided here, not by the index alone:
 * - The same content twice is one snapshot: a blocking query also returns on a timeout, an
 *   idempotent rewrite or an index reset (snapshot restore), with nothing new in it.
 * - An answer with `X-Consul-Index: 0` (a broken agent or proxy) says nothing about change:
 *   BlockingWatch (consul/blocking-watch.ts, rule 3) delivers it and the content decides.
 * - A round that succeeds after failed ones tells subscribers Consul is back (BlockingWatch's
 *   onRecover), even when nothing under the prefix changed meanwhile.
 *
 * NOTE: the shared watch makes its own client from the agent's options rather than borrowing
 * a mesh's: the mesh that started it may close while others still watch.
 */
import { BlockingWatch } from '../consul/blocking-watch.ts';
import { ConsulClient, type ConsulClientOptions, type KvEntry } from '../consul/client.ts';
import { agentIdentity, SharedWatch, SharedWatches } from '../consul/shared-watch.ts';
import { isMeshError, MeshError } from '../core/errors.ts';
import { documentFromEntries, listPrefix } from './consul-layout.ts';

/** What a subscriber hears; the latest of these is replayed to a late subscriber. */
export type KvOutcome =
  | { readonly kind: 'snapshot'; readonly document: unknown; readonly keyOf: (path: string) => string }
  | { readonly kind: 'rejected'; readonly error: MeshError }
  | { readonly kind: 'unavailable'; readonly error: MeshError };

export interface KvListener {
  outcome(outcome: KvOutcome): void;
  /** Consul answers again after failures (a changed content, if any, follows as an outcome). */
  available(): void;
}

export interface KvSubscription {
  /** Resolves once the watch has delivered its first outcome. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

const watches = new SharedWatches<KvListener, SharedKvWatch>();

export function watchKvPrefix(agent: ConsulClientOptions, prefix: string, listener: KvListener): KvSubscription {
  const { watch, close } = watches.join([...agentIdentity(agent), listPrefix(prefix)], () => new SharedKvWatch(agent, prefix), listener);
  return { ready: watch.ready, close };
}

/** Shared KV watches open in this process (one per agent and prefix). */
export function sharedKvWatches(): number {
  return watches.size;
}

class SharedKvWatch extends SharedWatch<KvListener> {
  readonly #prefix: string;
  readonly #client: ConsulClient;
  readonly #watch: BlockingWatch<KvEntry[]>;
  readonly ready: Promise<void>;
  #markReady: () => void = () => {};
  /** What a late subscriber is told: the last document, the rejection since, the failure now. */
  #lastSnapshot: KvOutcome | undefined;
  #lastRejected: KvOutcome | undefined;
  #lastFailure: KvOutcome | undefined;
  /** The content last assembled (keys and values), so an answer with nothing new is dropped. */
  #lastContent: string | undefined;
  /** Answers are assembled one at a time, in order (a YAML value may be parsed off-thread). */
  #assembling: Promise<void> = Promise.resolve();
  #stopped = false;
  /** An outcome was published: the first read is over, and nobody awaits the rounds after it. */
  #reported = false;

  constructor(agent: ConsulClientOptions, prefix: string) {
    super();
    this.#prefix = prefix;
    this.#client = new ConsulClient(agent);
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    const what = `Consul KV ${listPrefix(prefix)}`;
    this.#watch = new BlockingWatch<KvEntry[]>({
      what,
      ...(agent.clock === undefined ? {} : { clock: agent.clock }),
      // Stale reads are allowed (DESIGN §4): any server answers, the leader is not a bottleneck.
      // NOTE: only the first read, which createMesh awaits, may keep the process alive; the
      // plain reads that retry after a failure are background work, or a hung agent would
      // hold a script that never calls close() for each retry's whole timeout.
      query: (index, wait, signal) => this.#client.kvList(listPrefix(prefix), { index, wait, signal, stale: true, background: this.#reported }),
      onChange: (entries) => {
        const content = contentOf(entries);
        if (content === this.#lastContent) return;
        this.#lastContent = content;
        this.#assembling = this.#assembling.then(() => this.#assemble(entries));
      },
      onError: (error) => this.#publish({ kind: 'unavailable', error }),
      // Back after failures (BlockingWatch's first round then is a plain read, answered at
      // once); a changed content came through onChange just before, and may be rejected:
      // Consul is reachable all the same.
      onRecover: () => {
        this.#lastFailure = undefined;
        this.broadcast((listener) => listener.available());
      },
    });
    void this.#watch.start();
  }

  protected replay(listener: KvListener): void {
    for (const known of [this.#lastSnapshot, this.#lastRejected, this.#lastFailure]) {
      if (known !== undefined) this.tell(listener, (l) => l.outcome(known));
    }
  }

  async #assemble(entries: readonly KvEntry[]): Promise<void> {
    if (this.#stopped) return;
    let outcome: KvOutcome;
    try {
      const { document, keyOf } = await documentFromEntries(this.#prefix, entries);
      outcome = { kind: 'snapshot', document, keyOf };
    } catch (error) {
      const meshError = isMeshError(error) ? error : new MeshError('MESH_CONFIG_INVALID', `Consul KV ${listPrefix(this.#prefix)} could not be read as config: ${String(error)}`, { cause: error });
      outcome = { kind: 'rejected', error: meshError };
    }
    if (!this.#stopped) this.#publish(outcome);
  }

  #publish(outcome: KvOutcome): void {
    if (outcome.kind === 'snapshot') {
      this.#lastSnapshot = outcome;
      this.#lastRejected = undefined;
    } else if (outcome.kind === 'rejected') {
      this.#lastRejected = outcome;
    } else {
      this.#lastFailure = outcome;
    }
    this.broadcast((listener) => listener.outcome(outcome));
    this.#reported = true;
    this.#markReady();
  }

  protected async stop(): Promise<void> {
    this.#stopped = true;
    this.#markReady();
    await this.#watch.stop();
    await this.#assembling;
    await this.#client.close();
  }
}

function contentOf(entries: readonly KvEntry[]): string {
  const pairs = entries.map((entry) => [entry.key, entry.value === null ? null : entry.value.toString('base64')] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify(pairs);
}
