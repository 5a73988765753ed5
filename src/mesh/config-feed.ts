/**
 * How config reaches the mesh's services: the bootstrap first, then every snapshot the
 * control store delivers (or, when the store is unreachable or its first answer refused, the
 * last good copy in `cacheDir`), and each change to a service's Consul routing entries. Each
 * is applied whole, one at a time in arrival order: validated, resolved against the
 * bootstrap, built beside the service table and swapped in. A rejected one is reported with
 * every issue listed, and the config in force keeps serving.
 */
import { isMeshError, MeshError } from '../core/errors.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import { redactError, redactText } from '../core/redact.ts';
import type { ServicePolicy } from '../config/policy.ts';
import type { MeshConfig } from '../config/schema.ts';
import { assertEndpointLimits } from '../config/endpoint-limits.ts';
import { resolveConfig } from '../config/resolve.ts';
import { validateMeshConfigInSlices } from '../config/validate-in-slices.ts';
import type { ControlStore } from '../control/control-store.ts';
import { locateIssues } from '../control/consul-layout.ts';
import { ConfigHistory } from './config-history.ts';
import type { ConsulRouting } from './consul-routing.ts';
import type { CachedConfig, LastGoodCache } from './last-good-cache.ts';
import type { ServiceTable } from './service-table.ts';

export interface ConfigFeedDeps {
  readonly bootstrap: MeshConfig;
  readonly store: ControlStore | undefined;
  readonly cache: LastGoodCache | undefined;
  /** Base directory for relative TLS file paths. */
  readonly baseDir: string | undefined;
  readonly events: MeshEventEmitter;
  readonly table: ServiceTable;
  readonly consulRouting: ConsulRouting;
  /** Whether the mesh is closed: a config arriving after that is not applied. */
  readonly closed: () => boolean;
}

type ControlStatus = { status: 'static' | 'ok' | 'unavailable'; lastError: string | null; cache?: CachedConfig | undefined };

export class ConfigFeed {
  readonly #deps: ConfigFeedDeps;
  readonly #history = new ConfigHistory();
  /** `cache`: the config in force is the cacheDir copy, read from that store at that time. */
  #controlStatus: ControlStatus;
  /** Reports from the control store so far (snapshots, failures, recoveries), for the status. */
  #controlReports = 0;
  /** A document from the control store itself (not the cacheDir copy) has been applied. */
  #controlApplied = false;
  #applying: Promise<void> = Promise.resolve();

  constructor(deps: ConfigFeedDeps) {
    this.#deps = deps;
    this.#controlStatus = { status: deps.store === undefined ? 'static' : 'ok', lastError: null };
  }

  /** Applies the bootstrap config (a failure throws), then the control store's first answer (or the cached one). */
  async start(): Promise<void> {
    await this.#apply(undefined, 'bootstrap', true);
    const { store, cache, events } = this.#deps;
    if (store === undefined) return;
    let snapshots = 0;
    const source = redactText(store.source);
    await store.watch({
      snapshot: (document, keyOf) => {
        snapshots++;
        const report = ++this.#controlReports;
        this.#enqueue(() => this.#applyDocument(document, source, keyOf, undefined, report));
      },
      rejected: (error) => {
        this.#reject(source, error);
      },
      unavailable: (error) => {
        this.#controlReports++;
        const reported = redactError(error);
        this.#controlStatus = { ...this.#controlStatus, status: 'unavailable', lastError: reported.message };
        events.emitLazy('control-error', () => ({ source, error: reported }));
      },
      available: () => {
        this.#controlReports++;
        this.#controlStatus = { ...this.#controlStatus, status: 'ok', lastError: null };
      },
    });
    // The first answer is validated before the cache is considered: the copy stands in when the
    // store is unreachable AND when what it holds is refused (a bad push must not cost every
    // instance started after it the services its bootstrap lacks).
    await this.#applying;
    if (!this.#controlApplied && cache !== undefined) {
      const seen = snapshots;
      const cached = await cache.read(source);
      // NOTE: checked again after the read: a fresh answer that arrived meanwhile wins.
      if (cached !== undefined && snapshots === seen) this.#enqueue(() => this.#applyDocument(cached.document, `cache:${source}`, undefined, cached));
    }
    await this.#applying;
  }

  /** Consul's entries for `name` changed: its runtime is rebuilt with the new routing, in turn with config changes. */
  reroute(name: string): void {
    this.#enqueue(async () => {
      if (this.#deps.closed()) return;
      const source = `consul-entries:${name}`;
      try {
        if (!this.#deps.table.reroute(name)) return;
      } catch (error) {
        this.#reject(source, error);
        return;
      }
      this.#applied(source, [name]);
    });
  }

  /** The store stops delivering; resolves once the config being applied, if any, is in. */
  async close(): Promise<void> {
    await this.#deps.store?.close();
    await this.#applying;
  }

  /** The config's part of mesh.state(): the versions applied and rejected, and the control store's status. */
  state(): Record<string, unknown> {
    return { ...this.#history.state(), control: { source: this.#deps.store?.source ?? 'static', ...this.#controlStatus, cache: cacheState(this.#controlStatus.cache) } };
  }

  #enqueue(task: () => Promise<void>): void {
    // NOTE: an apply that throws (a build step that failed, a bug) must neither end the chain
    // nor crash the process with an unhandled rejection: the config in force stays, and the
    // failure is reported like any other control-plane error.
    this.#applying = this.#applying.then(task).catch((error: unknown) => {
      const reported = redactError(error instanceof Error ? error : new Error(String(error)));
      this.#deps.events.emitLazy('control-error', () => ({ source: 'config apply', error: reported }));
    });
  }

  /**
   * `keyOf` names the store's key of an issue path (Consul KV); `cached` marks a config read
   * from cacheDir; `report` is the store's report count when it delivered the document.
   */
  async #applyDocument(document: unknown, source: string, keyOf?: (path: string) => string, cached?: CachedConfig, report?: number): Promise<void> {
    let control: MeshConfig;
    try {
      // In slices: a large document's endpoint lists are validated one service per turn.
      control = await validateMeshConfigInSlices(document);
    } catch (error) {
      this.#reject(source, located(error, keyOf));
      return;
    }
    if (!(await this.#apply(control, source, false, keyOf))) return;
    if (cached !== undefined) {
      this.#controlStatus = { ...this.#controlStatus, cache: cached };
      return;
    }
    this.#controlApplied = true;
    // NOTE: the store says 'ok' only if it reported nothing since delivering this document: a
    // mesh joining a shared watch mid-outage hears the last snapshot, then the failure.
    const reachable = report === this.#controlReports;
    this.#controlStatus = reachable ? { status: 'ok', lastError: null } : { ...this.#controlStatus, cache: undefined };
    // NOTE: `source` is the store's redacted source here (a cached document returned above).
    await this.#deps.cache?.write(source, document);
  }

  /**
   * Resolves every service's policy from bootstrap + control, builds runtimes for the
   * services that changed, then swaps them in at once (service-table.ts). Returns false when rejected.
   */
  async #apply(control: MeshConfig | undefined, source: string, initial: boolean, keyOf?: (path: string) => string): Promise<boolean> {
    const { bootstrap, baseDir, consulRouting, table } = this.#deps;
    if (this.#deps.closed()) return false;
    let policies: ReadonlyMap<string, ServicePolicy>;
    try {
      policies = resolveConfig({ bootstrap, control, baseDir }).services;
      assertEndpointLimits(policies);
      // Before any runtime is built: a service's Consul routing is read first (consul-routing.ts).
      await consulRouting.sync(policies);
    } catch (error) {
      if (initial) throw error;
      this.#reject(source, located(error, keyOf));
      return false;
    }
    this.#applied(source, await table.apply(policies));
    return true;
  }

  /** A config from `source` is in force: a version in the history, and the `config` event naming the services it changed. */
  #applied(source: string, changed: string[]): void {
    const version = this.#history.record(source, changed);
    this.#deps.events.emitLazy('config', () => ({ version, source, changedServices: changed }));
  }

  /** The one path of a rejection to the event and the history, so both are redacted here. */
  #reject(source: string, error: unknown): void {
    const meshError = redactError(
      isMeshError(error)
        ? error
        : new MeshError('MESH_CONFIG_INVALID', `config from ${source} could not be applied: ${String(error)}`, { cause: error }),
    );
    const issues = meshError.issues ?? [{ path: '', message: meshError.message }];
    this.#history.reject(source, issues);
    this.#deps.events.emitLazy('config-rejected', () => ({ source, issues, error: meshError }));
  }
}

/** A store's issue paths named by its keys (Consul KV's `keyOf`), when it has keys and the error lists issues. */
function located(error: unknown, keyOf: ((path: string) => string) | undefined): unknown {
  return isMeshError(error) && keyOf !== undefined ? locateIssues(error, keyOf) : error;
}

/** When the config in force is the cacheDir copy: which store it was read from, when, and how old it is. */
function cacheState(cached: CachedConfig | undefined): { readFrom: string; savedAt: string; ageMs: number } | null {
  if (cached === undefined) return null;
  return { readFrom: cached.source, savedAt: new Date(cached.savedAt).toISOString(), ageMs: Math.max(0, Date.now() - cached.savedAt) };
}
