/**
 * Consul's service-router, service-splitter and service-resolver entries for one service,
 * translated into the route model (consul-entries.ts). The entries come from the process-wide
 * lists (consul-entry-lists.ts: three blocking queries per agent, whatever the number of
 * services); this watch translates every view of them, following whatever entries the
 * translation asks for (the service's three, and the splitters and resolvers of every service a
 * route names), and a model whose content changed goes to `onModel` (the mesh swaps the
 * service's routing). A service none of whose entries exist translates to Consul's implicit
 * chain, which routes nothing: it stays unrouted and its calls pay nothing for routing.
 *
 * Entries Consul would refuse go to `onRejected` and the model in force stays. Fields meshlet
 * cannot honour exactly are in the model's `unsupported` (shown in state(), and reported
 * through `onRejected` once per change), including what the translation keeps but the runtime
 * does not apply (a resolver's ConnectTimeout, OnlyPassing over a discovery that keeps warning
 * instances).
 */
import type { ConsulClientOptions } from '../consul/client.ts';
import { isMeshError, MeshError } from '../core/errors.ts';
import type { ConfigIssue } from '../core/errors.ts';
import { translateConsulEntries } from './consul-entries.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './consul-resolver.ts';
import { type ConsulEntries, type EntriesSubscription, watchConsulEntries } from './consul-entry-lists.ts';
import type { RoutingModel, UnsupportedItem } from './route-types.ts';

export interface ConsulEntryWatchOptions {
  /** The service's name in Consul. */
  readonly service: string;
  readonly agent: ConsulClientOptions;
  /** The discovery's datacenter (undefined: the agent's). */
  readonly datacenter: string | undefined;
  /** Whether discovery keeps only passing instances (a resolver subset's OnlyPassing is then honoured). */
  readonly passingOnly: boolean;
  /** The service's pool.connectTimeout (ms), which a resolver's ConnectTimeout would have to equal. */
  readonly poolConnectTimeout: number;
  /** Whether a Consul service is one meshlet's config calls (a target naming another fails its calls: reported here first). */
  readonly configured: (consulService: string) => boolean;
  /** A new model (undefined: no entry routes anything, the service is not routed). */
  readonly onModel: (model: RoutingModel | undefined) => void;
  /** Entries refused (Consul's own validation), or read but not honoured exactly. */
  readonly onRejected: (error: MeshError) => void;
  /** A round of the lists failed (Consul unreachable, …): the model in force stays. */
  readonly onError: (error: MeshError) => void;
}

export class ConsulEntryWatch {
  readonly #options: ConsulEntryWatchOptions;
  readonly #subscription: EntriesSubscription;
  /** The entries the model in force was translated from (names only), for state(). */
  #used: string[] = [];
  #modelKey: string | undefined = undefined;
  #model: RoutingModel | undefined = undefined;
  #stopped = false;
  /** The refusal last reported (its message and issues), which a refresh of the same entries does not repeat. */
  #refusedKey: string | undefined = undefined;
  /** The last view of the entries, translated again when meshlet's own services change (refresh). */
  #entries: ConsulEntries | undefined = undefined;
  lastError: string | undefined = undefined;

  constructor(options: ConsulEntryWatchOptions) {
    this.#options = options;
    this.#subscription = watchConsulEntries(options.agent, options.datacenter, {
      change: (entries) => {
        this.lastError = undefined;
        this.#entries = entries;
        this.#translate(entries);
      },
      error: (error) => {
        this.lastError = error.message;
        options.onError(error);
      },
    });
  }

  /** The model in force (undefined: not routed by Consul's entries). */
  get model(): RoutingModel | undefined {
    return this.#model;
  }

  /** Resolves once the lists have answered (or failed) once: the first model, if any, is in force. */
  get ready(): Promise<void> {
    return this.#subscription.ready;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#subscription.close();
  }

  /** meshlet's services changed: what the model names may now be configured, or no longer. */
  refresh(): void {
    if (this.#entries !== undefined) this.#translate(this.#entries, true);
  }

  state(): Record<string, unknown> {
    return { entries: this.#used, unsupported: this.#model?.unsupported ?? [], lastError: this.lastError ?? null };
  }

  #translate(entries: ConsulEntries, refreshing = false): void {
    if (this.#stopped) return;
    const used = new Set<string>();
    let model: RoutingModel;
    try {
      model = translateConsulEntries(this.#options.service, (kind, name) => {
        const key = `${kind}/${name}`;
        if (entries.has(key)) used.add(key);
        return entries.get(key);
      });
    } catch (error) {
      const refused = isMeshError(error) ? error : new MeshError('MESH_CONFIG_INVALID', String(error), { cause: error });
      // A refresh (any config apply) translating the same entries to the same refusal is not news; new entries are.
      const key = JSON.stringify([refused.message, refused.issues ?? []]);
      if (!refreshing || key !== this.#refusedKey) this.#options.onRejected(refused);
      this.#refusedKey = key;
      return;
    }
    this.#refusedKey = undefined;
    const full = withRuntimeGaps(model, this.#options);
    const routed = isRouted(full) ? full : undefined;
    const key = routed === undefined ? 'none' : JSON.stringify(routed);
    this.#used = [...used].sort();
    if (key === this.#modelKey) return;
    this.#modelKey = key;
    this.#model = routed;
    if (routed !== undefined && routed.unsupported.length > 0) this.#options.onRejected(notHonoured(this.#options.service, routed.unsupported));
    this.#options.onModel(routed);
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

/**
 * What the translation keeps but the route runtime does not apply, reported rather than
 * silently approximated: a target or failover naming a Consul service meshlet's config does
 * not call (its calls fail, subset-endpoints.ts noPickReason), a ConnectTimeout other than the pool's (connections are the service's
 * endpoint pools, shared by every target), and OnlyPassing over a discovery that keeps
 * warning instances (`passingOnly: false`; with the default `true` every endpoint is passing).
 */
function withRuntimeGaps(model: RoutingModel, options: Pick<ConsulEntryWatchOptions, 'passingOnly' | 'poolConnectTimeout' | 'configured'>): RoutingModel {
  const { passingOnly, poolConnectTimeout } = options;
  const gaps: UnsupportedItem[] = [];
  const named = new Set([...model.routes.flatMap((route) => route.targets.map((t) => t.target.service)), ...Object.values(model.resolutions).flatMap((r) => Object.values(r.failover).flat().map((t) => t.service))]);
  for (const service of named) {
    if (service === model.service || options.configured(service)) continue;
    gaps.push({ path: `targets/${service}`, reason: `routes name Consul service '${service}', which no service in meshlet's config discovers: those calls fail with MESH_UNKNOWN_SERVICE unless a failover serves them; add services.${service} with discovery { type: 'consul' }` });
  }
  for (const [service, resolution] of Object.entries(model.resolutions)) {
    const timeout = resolution.connectTimeout;
    if (timeout !== DEFAULT_CONNECT_TIMEOUT_MS && timeout !== poolConnectTimeout) {
      gaps.push({ path: `service-resolver/${service}.ConnectTimeout`, reason: `${timeout} ms is not applied: connections use the service's pool.connectTimeout (${poolConnectTimeout} ms); set pool.connectTimeout in meshlet's config instead` });
    }
    if (passingOnly) continue;
    for (const [name, subset] of Object.entries(resolution.subsets)) {
      if (subset.onlyPassing === true) gaps.push({ path: `service-resolver/${service}.Subsets.${name}.OnlyPassing`, reason: 'not applied: discovery keeps warning instances (passingOnly: false) and endpoints carry no check status; set passingOnly: true to keep only passing ones' });
    }
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
