/**
 * Every service-router, service-splitter and service-resolver entry of a datacenter, read with
 * one blocking list query per kind (`/v1/config/<kind>`), shared process-wide
 * (consul/shared-watch.ts) by every service of every mesh that asks the same agent, token and
 * datacenter. Each answer is the whole set of that kind, so the view is replaced, never grown.
 *
 * Why the three lists, and not one watch per entry (`/v1/config/<kind>/<name>`) nor Consul's
 * compiled `/v1/discovery-chain/<name>`: config entries are honoured by default for every
 * Consul-discovered service, and most services have none. Per-entry watches cost three parked
 * requests per service plus more for every service a route names; a compiled chain costs one
 * per service, entries or not. The lists cost three per agent and datacenter per process,
 * whatever the number of services, and a service with no entries costs nothing at all: it is
 * simply absent from them. The entries also keep Consul's own field paths for every refusal
 * and every field meshlet cannot honour (consul-entries.ts), which a compiled chain loses.
 * The price: a change to any entry of a kind sends that kind's every entry to every process
 * (entries are small and change rarely; their index is the config table's, CONSUL.md §3.1).
 *
 * A view is delivered only once all three kinds have answered: a router read without the
 * resolver its subsets live in would be refused for a subset that exists.
 */
import { BlockingWatch } from '../consul/blocking-watch.ts';
import { ConsulClient, type ConsulClientOptions } from '../consul/client.ts';
import { agentIdentity, SharedWatch, SharedWatches } from '../consul/shared-watch.ts';
import type { MeshError } from '../core/errors.ts';
import type { ConsulEntryKind } from './consul-entries.ts';

/** Entries by `kind/name`, as `/v1/config/<kind>` lists them. */
export type ConsulEntries = ReadonlyMap<string, unknown>;

export interface EntriesListener {
  /** Every routing entry now (the first complete view, then each that differs). */
  change(entries: ConsulEntries): void;
  /** A round failed; the watch retries. The view delivered before stays true. */
  error(error: MeshError): void;
}

export interface EntriesSubscription {
  /** Resolves once each kind has answered or failed once. */
  readonly ready: Promise<void>;
  /** Leaves the watch; the last subscriber to leave stops it. */
  close(): Promise<void>;
}

const KINDS: readonly ConsulEntryKind[] = ['service-router', 'service-splitter', 'service-resolver'];
const watches = new SharedWatches<EntriesListener, SharedEntryLists>();

/** Watches the routing entries of `datacenter` (the agent's own when undefined). */
export function watchConsulEntries(agent: ConsulClientOptions, datacenter: string | undefined, listener: EntriesListener): EntriesSubscription {
  const dc = datacenter ?? agent.datacenter;
  const { watch, close } = watches.join([...agentIdentity(agent, dc), 'routing-entries'], () => new SharedEntryLists(agent, dc), listener);
  return { ready: watch.ready, close };
}

/** Entry-list watches open in this process (one per agent, token and datacenter). */
export function sharedEntryWatches(): number {
  return watches.size;
}

class SharedEntryLists extends SharedWatch<EntriesListener> {
  readonly #client: ConsulClient;
  readonly #watches: BlockingWatch<unknown[]>[];
  readonly #byKind = new Map<ConsulEntryKind, unknown[]>();
  readonly ready: Promise<void>;
  #entries: ConsulEntries | undefined;
  #content: string | undefined;
  #lastError: MeshError | undefined;

  constructor(agent: ConsulClientOptions, datacenter: string | undefined) {
    super();
    this.#client = new ConsulClient({ ...agent, ...(datacenter === undefined ? {} : { datacenter }) });
    this.#watches = KINDS.map(
      (kind) =>
        new BlockingWatch<unknown[]>({
          what: `config ${kind}`,
          ...(agent.clock === undefined ? {} : { clock: agent.clock }),
          // Background, first round included: start-up waits on its own bounded call timer (mesh/consul-routing.ts).
          query: (index, wait, signal) => this.#client.configEntries(kind, { index, wait, signal, background: true }),
          onChange: (list) => this.#changed(kind, list),
          onError: (error) => {
            this.#lastError = error;
            this.broadcast((listener) => listener.error(error));
          },
        }),
    );
    this.ready = Promise.all(this.#watches.map((watch) => watch.start())).then(() => undefined);
  }

  #changed(kind: ConsulEntryKind, list: unknown[]): void {
    this.#byKind.set(kind, list);
    this.#lastError = undefined;
    if (this.#byKind.size < KINDS.length) return;
    const entries = new Map<string, unknown>();
    for (const [listed, items] of this.#byKind) {
      for (const item of items) {
        const name = (item as { Name?: unknown } | null)?.Name;
        if (typeof name === 'string') entries.set(`${listed}/${name}`, item);
      }
    }
    // The same entries again (a write that changed nothing, an index-0 agent) are not news.
    const content = JSON.stringify([...entries].map(([key, entry]) => [key, withoutIndexes(entry)]));
    if (content === this.#content) return;
    this.#content = content;
    this.#entries = entries;
    this.broadcast((listener) => listener.change(entries));
  }

  protected replay(listener: EntriesListener): void {
    const entries = this.#entries;
    const error = this.#lastError;
    if (entries !== undefined) this.tell(listener, (l) => l.change(entries));
    if (error !== undefined) this.tell(listener, (l) => l.error(error));
  }

  protected async stop(): Promise<void> {
    await Promise.all(this.#watches.map((watch) => watch.stop()));
    await this.#client.close();
  }
}

/** An entry's content: a rewrite bumps ModifyIndex without changing what it routes. */
function withoutIndexes(entry: unknown): unknown {
  if (typeof entry !== 'object' || entry === null) return entry;
  const { CreateIndex: _c, ModifyIndex: _m, ...rest } = entry as Record<string, unknown>;
  return rest;
}
