/**
 * Consul's service-router, service-splitter and service-resolver entries for one service,
 * watched and translated into the route model (consul-entries.ts). The translation reads
 * entries through a lookup; this watch serves that lookup from what its blocking watches
 * (consul/blocking-watch.ts, one per entry) last read, and watches every entry the translation
 * asked for: the service's three, and the splitters and resolvers of every service a route
 * names. An entry it had not read yet is watched, and the translation runs again once it is.
 * A change to any watched entry translates again, and a model whose content changed goes to
 * `onModel` (the mesh swaps the service's routing).
 *
 * Entries meshlet reads from `/v1/config/<kind>/<name>`, not the compiled
 * `/v1/discovery-chain/<name>`: the entries carry Consul's field paths for every error and
 * every unsupported field, and a compiled chain bakes in targets in other datacenters that
 * meshlet does not reach (consul-entries.ts).
 *
 * Entries Consul would refuse go to `onRejected` and the model in force stays. Fields meshlet
 * cannot honour exactly are in the model's `unsupported` (shown in state(), and reported
 * through `onRejected` once per change), including what the translation keeps but the runtime
 * does not apply (a resolver's ConnectTimeout).
 */
import { BlockingWatch } from '../consul/blocking-watch.ts';
import type { ConsulClient } from '../consul/client.ts';
import type { Clock } from '../core/clock.ts';
import { isMeshError, MeshError } from '../core/errors.ts';
import type { ConfigIssue } from '../core/errors.ts';
import { type ConsulEntryKind, translateConsulEntries } from './consul-entries.ts';
import type { RoutingModel, UnsupportedItem } from './route-types.ts';

export interface ConsulEntryWatchOptions {
  readonly service: string;
  readonly client: () => ConsulClient;
  readonly clock: Clock;
  /** A new model (undefined: no entry routes anything, the service is not routed). */
  readonly onModel: (model: RoutingModel | undefined) => void;
  /** Entries refused (Consul's own validation), or read but not honoured exactly. */
  readonly onRejected: (error: MeshError) => void;
  /** A watch's round failed (Consul unreachable, …): the model in force stays. */
  readonly onError: (error: MeshError) => void;
}

const KINDS: readonly ConsulEntryKind[] = ['service-router', 'service-splitter', 'service-resolver'];

export class ConsulEntryWatch {
  readonly #options: ConsulEntryWatchOptions;
  /** Entries read so far, by `kind/name`; undefined: Consul has none (404). */
  readonly #entries = new Map<string, unknown>();
  readonly #watches = new Map<string, BlockingWatch<unknown>>();
  /** Entries whose first read someone awaits (start, or a translation that needs it), which translates next. */
  readonly #awaited = new Set<string>();
  #modelKey: string | undefined = undefined;
  #model: RoutingModel | undefined = undefined;
  #stopped = false;
  lastError: string | undefined = undefined;

  constructor(options: ConsulEntryWatchOptions) {
    this.#options = options;
  }

  /** The model in force (undefined: not routed by Consul's entries). */
  get model(): RoutingModel | undefined {
    return this.#model;
  }

  /** Starts the service's three watches; resolves once each has reported once and the first translation ran. */
  async start(): Promise<void> {
    await Promise.all(KINDS.map((kind) => this.#watch(kind, this.#options.service)));
    await this.#translate();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#watches.values()].map((w) => w.stop()));
    this.#watches.clear();
  }

  state(): Record<string, unknown> {
    return {
      entries: [...this.#entries.entries()].filter(([, entry]) => entry !== undefined).map(([key]) => key).sort(),
      unsupported: this.#model?.unsupported ?? [],
      lastError: this.lastError ?? null,
    };
  }

  #watch(kind: ConsulEntryKind, name: string): Promise<void> {
    const key = `${kind}/${name}`;
    if (this.#watches.has(key) || this.#stopped) return Promise.resolve();
    const watch = new BlockingWatch<unknown>({
      what: `config ${key}`,
      clock: this.#options.clock,
      query: (index, wait, signal) => this.#options.client().configEntry(kind, name, { index, wait, signal, background: true }),
      onChange: (entry) => {
        this.#entries.set(key, entry);
        this.lastError = undefined;
        if (!this.#awaited.has(key)) void this.#translate();
      },
      onError: (error) => {
        this.lastError = error.message;
        this.#options.onError(error);
      },
    });
    this.#watches.set(key, watch);
    this.#awaited.add(key);
    return watch.start().finally(() => this.#awaited.delete(key));
  }

  async #translate(): Promise<void> {
    if (this.#stopped) return;
    const missing: [ConsulEntryKind, string][] = [];
    let model: RoutingModel;
    try {
      model = translateConsulEntries(this.#options.service, (kind, name) => {
        const key = `${kind}/${name}`;
        if (!this.#entries.has(key)) missing.push([kind, name]);
        return this.#entries.get(key);
      });
    } catch (error) {
      if (missing.length > 0) return this.#readThenTranslate(missing);
      this.#options.onRejected(isMeshError(error) ? error : new MeshError('MESH_CONFIG_INVALID', String(error), { cause: error }));
      return;
    }
    if (missing.length > 0) return this.#readThenTranslate(missing);
    const routed = isRouted(model) ? withRuntimeGaps(model) : undefined;
    const key = routed === undefined ? 'none' : JSON.stringify(routed);
    if (key === this.#modelKey) return;
    this.#modelKey = key;
    this.#model = routed;
    if (routed !== undefined && routed.unsupported.length > 0) this.#options.onRejected(notHonoured(this.#options.service, routed.unsupported));
    this.#options.onModel(routed);
  }

  /** Watches what the translation asked for and had not read, then translates again; an entry whose read failed translates when its watch reads it. */
  async #readThenTranslate(missing: readonly [ConsulEntryKind, string][]): Promise<void> {
    const unwatched = missing.filter(([kind, name]) => !this.#watches.has(`${kind}/${name}`));
    if (unwatched.length === 0) return;
    await Promise.all(unwatched.map(([kind, name]) => this.#watch(kind, name)));
    await this.#translate();
  }
}

/** Consul's implicit chain (no entry routes, splits or resolves anything) routes nothing: the service stays unrouted. */
function isRouted(model: RoutingModel): boolean {
  if (model.routes.length > 1 || model.unsupported.length > 0) return true;
  const only = model.routes[0]!;
  if (only.targets.length !== 1 || only.targets[0]!.target.service !== model.service || only.targets[0]!.target.subset !== undefined) return true;
  const resolution = model.resolutions[model.service];
  return resolution !== undefined && (Object.keys(resolution.subsets).length > 0 || resolution.defaultSubset !== undefined || Object.keys(resolution.failover).length > 0 || resolution.requestTimeout !== undefined || resolution.balancer !== undefined);
}

/** What the translation keeps but the route runtime does not apply yet, reported rather than silently dropped. */
function withRuntimeGaps(model: RoutingModel): RoutingModel {
  const gaps: UnsupportedItem[] = [];
  for (const [service, resolution] of Object.entries(model.resolutions)) {
    if (resolution.connectTimeout !== 5000) gaps.push({ path: `service-resolver/${service}.ConnectTimeout`, reason: "read, but connections use the service's pool.connectTimeout" });
  }
  return gaps.length === 0 ? model : { ...model, unsupported: [...model.unsupported, ...gaps] };
}

function notHonoured(service: string, items: readonly UnsupportedItem[]): MeshError {
  const issues: ConfigIssue[] = items.map((item) => ({ path: item.path, message: item.reason }));
  return new MeshError(
    'MESH_CONFIG_INVALID',
    `Consul's config entries for '${service}' ask for ${items.length} thing(s) meshlet cannot honour exactly; the rest of the routing applies; see issues and state()`,
    { issues },
  );
}
