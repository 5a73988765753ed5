/**
 * The mesh: one per process. It owns the config (bootstrap + control store), one runtime per
 * logical service, and hands out clients. Config changes are applied as whole validated
 * snapshots, atomically: a bad push is rejected with every problem listed and the previous
 * config keeps serving.
 */
import { setImmediate } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/clock.ts';
import { callerAborted, isMeshError, MeshError } from '../core/errors.ts';
import { invalidArgument, meshClosed, meshClosedCallCut, meshClosedWhileQueued, unknownService } from '../core/mesh-errors.ts';
import { MeshEventEmitter, type Disposer, type Listener, type MeshEventName } from '../core/events.ts';
import { redactError, redactText, redactValue } from '../core/redact.ts';
import type { MeshRequest, MeshResponse } from '../core/service.ts';
import type { ServicePolicy } from '../config/policy.ts';
import type { MeshConfig, MeshConfigInput } from '../config/schema.ts';
import { assertEndpointLimits } from '../config/endpoint-limits.ts';
import { policyEquals } from '../config/policy-key.ts';
import { resolveConfig } from '../config/resolve.ts';
import { validateMeshConfig } from '../config/validate.ts';
import { validateMeshConfigInSlices } from '../config/validate-in-slices.ts';
import type { ControlStore } from '../control/control-store.ts';
import { createControlStore } from '../control/create-control-store.ts';
import { ConfigHistory } from './config-history.ts';
import { type ConsulAgent, consulAgentFor } from './consul-agent.ts';
import { type RegisteredService, type RegisterOptions, Registrations } from './registration.ts';
import { locateIssues } from '../control/consul-layout.ts';
import { type CachedConfig, LastGoodCache } from './last-good-cache.ts';
import { parsedCall, parseRequestOptions, type RequestOptions } from './request-options.ts';
import { meshFetch } from './fetch.ts';
import { runClientCall } from './client-call.ts';
import { servicesRoutedTo } from '../routing/from-config.ts';
import type { TargetStack } from '../stack/route-target-stacks.ts';
import { ConsulRouting } from './consul-routing.ts';
import { EndpointWatch, endpointWatchKey, type RoutingContext, ServiceRuntime } from './service-runtime.ts';
import { EndpointCache } from './endpoint-cache.ts';
import { ServiceEndpoints } from '../balance/endpoint-source.ts';
import { durationOrThrow } from '../config/duration.ts';
import { closeTelemetry, installTelemetry } from '../telemetry/telemetry-stack.ts';
import { type AdminHandler, type AdminOptions, createAdminHandler } from '../admin/admin-handler.ts';

/** How long close() lets calls in flight finish before it cuts them off with MESH_CLOSED. */
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** How long close() waits for Consul to take this instance out before it drains anyway. */
const DEREGISTER_BOUND_MS = 2000;

export interface CloseOptions {
  /** The drain bound: a duration (`'5s'`) or milliseconds; default 10 s. */
  timeout?: number | string;
}

export interface MeshOptions {
  /** This service's own name (tracing, metrics, headers). */
  service: string;
  /** Bootstrap config, lowest precedence after the built-in defaults. */
  config?: MeshConfigInput;
  /** `consul://host:8500/prefix`, `file:./mesh.json`, or a ControlStore; absent: the bootstrap config alone. */
  control?: string | ControlStore;
  /**
   * The Consul agent (discovery, registration, and the KV control store); defaults to the
   * control URL's agent, then CONSUL_HTTP_ADDR / CONSUL_HTTP_TOKEN / CONSUL_CACERT.
   */
  consul?: { url?: string; token?: string; datacenter?: string; ca?: string | Buffer };
  /** Where the last-known-good control config is kept across restarts. */
  cacheDir?: string;
  /** Base directory for relative TLS file paths (default: the working directory). */
  baseDir?: string;
  /** For tests: the clock every policy reads. */
  clock?: Clock;
}

export interface ServiceClient {
  readonly name: string;
  request(options: RequestOptions): Promise<MeshResponse>;
}

export async function createMesh(options: MeshOptions): Promise<Mesh> {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('createMesh', 'it needs an options object; write createMesh({ service: "my-service" })');
  }
  if (typeof options.service !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(options.service)) {
    throw invalidArgument('createMesh', '`service` must be this service\'s name (letters, digits, ".", "_", "-"), e.g. { service: "checkout" }');
  }
  try {
    const bootstrap = validateMeshConfig(options.config ?? {});
    const consul = consulAgentFor(options);
    const mesh = new Mesh(options, bootstrap, createControlStore(options.control, { consulAgent: () => consul.options() }), consul);
    await mesh.start();
    return mesh;
  } catch (error) {
    // NOTE: the one exit of startup errors: whatever they quote, no credential leaves with them.
    throw error instanceof Error ? redactError(error) : error;
  }
}

export class Mesh {
  readonly service: string;
  readonly #clock: Clock;
  readonly #events = new MeshEventEmitter();
  readonly #bootstrap: MeshConfig;
  readonly #store: ControlStore | undefined;
  readonly #baseDir: string | undefined;
  readonly #cache: LastGoodCache | undefined;
  /** The one Consul agent of this mesh; opens nothing until something asks for its client. */
  readonly #consul: ConsulAgent;
  /** Services routed by Consul's config entries, and their watches (consul-routing.ts). */
  readonly #consulRouting: ConsulRouting;
  readonly #registrations: Registrations;
  readonly #history = new ConfigHistory();
  #runtimes = new Map<string, ServiceRuntime>();
  /** Per service, the endpoint set its stacks balance over now (see balance/endpoint-source.ts). */
  readonly #sources = new Map<string, ServiceEndpoints>();
  /** Replaced runtimes with calls still in flight, and replaced watches still closing: close() waits for them too. */
  readonly #retiring = new Set<ServiceRuntime>();
  readonly #closingWatches = new Set<EndpointWatch>();
  readonly #watches = new Map<string, EndpointWatch>();
  readonly #clients = new Map<string, ServiceClient>();
  /** Each Consul-discovered service's last endpoint list, beside the config cache (`cacheDir`). */
  readonly #knownEndpoints: EndpointCache | undefined;
  /** `cache`: the config in force is the cacheDir copy, read from that store at that time. */
  #controlStatus: { status: 'static' | 'ok' | 'unavailable'; lastError: string | null; cache?: CachedConfig | undefined };
  /** Reports from the control store so far (snapshots, failures, recoveries), for the status. */
  #controlReports = 0;
  /** A document from the control store itself (not the cacheDir copy) has been applied. */
  #controlApplied = false;
  #applying: Promise<void> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Set once deregistration began (deregister() or close()); settles when it ended or its bound passed. */
  #deregistered: Promise<void> | undefined;

  constructor(options: MeshOptions, bootstrap: MeshConfig, store: ControlStore | undefined, consul: ConsulAgent) {
    this.service = options.service;
    this.#clock = options.clock ?? systemClock;
    this.#knownEndpoints = options.cacheDir === undefined ? undefined : new EndpointCache(options.cacheDir);
    this.#bootstrap = bootstrap;
    this.#store = store;
    this.#baseDir = options.baseDir;
    this.#cache = options.cacheDir === undefined ? undefined : new LastGoodCache(options.cacheDir);
    this.#consul = consul;
    this.#consulRouting = new ConsulRouting(consul, this.#clock, this.#events, (name) => this.#enqueue(() => this.#reroute(name)));
    this.#registrations = new Registrations(() => consul.client(), this.#clock);
    this.#controlStatus = { status: store === undefined ? 'static' : 'ok', lastError: null };
    // Its config and endpoint events feed meshlet:config / meshlet:endpoint, its state the OpenTelemetry gauges.
    installTelemetry(this, this.#events);
  }

  /** Applies the bootstrap config, then the control store's first answer (or the cached one). */
  async start(): Promise<void> {
    await this.#apply(undefined, 'bootstrap', true);
    if (this.#store === undefined) return;
    let snapshots = 0;
    const source = redactText(this.#store.source);
    await this.#store.watch({
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
        this.#events.emitLazy('control-error', () => ({ source, error: reported }));
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
    if (!this.#controlApplied && this.#cache !== undefined) {
      const seen = snapshots;
      const cached = await this.#cache.read(source);
      // NOTE: checked again after the read: a fresh answer that arrived meanwhile wins.
      if (cached !== undefined && snapshots === seen) this.#enqueue(() => this.#applyDocument(cached.document, `cache:${source}`, undefined, cached));
    }
    await this.#applying;
  }

  client(name: string): ServiceClient {
    let client = this.#clients.get(name);
    if (client === undefined) {
      if (typeof name !== 'string' || name.length === 0 || name.length > 128) {
        throw invalidArgument('mesh.client(name)', `name must be a non-empty service name, got ${String(name)}`);
      }
      client = { name, request: (options) => this.#request(name, options) };
      this.#clients.set(name, client);
    }
    return client;
  }

  /**
   * Internal, for meshlet/grpc (src/transport/grpc/): what `name`'s calls run on now — its
   * runtime (policy, budget, breaker, limits), its endpoint source, the mesh's clock and events.
   * Read per call, so a config push reaches live gRPC clients without recreating them.
   */
  serviceView(name: string): ServiceView {
    if (this.#closed) throw meshClosed(name);
    const runtime = this.#runtimes.get(name);
    const endpoints = this.#sources.get(name);
    if (runtime === undefined || endpoints === undefined) throw unknownService(name, this.#runtimes.keys());
    return { runtime, endpoints, clock: this.#clock, events: this.#events };
  }

  /** WHATWG fetch; the URL's host is the logical service name: `http://payments/charge`. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    return meshFetch((name, options) => this.#request(name, options), input, init);
  }

  on<K extends MeshEventName>(name: K, listener: Listener<K>): Disposer {
    return this.#events.on(name, listener);
  }

  /** NOTE: redacted as a whole: every layer's state may quote a URL (a Redis URL, an error). */
  state(): Record<string, unknown> {
    const services: Record<string, unknown> = {};
    for (const [name, runtime] of this.#runtimes) {
      const entries = this.#consulRouting.state(name);
      services[name] = entries === undefined ? runtime.state() : { ...runtime.state(), consulEntries: entries };
    }
    return redactValue({
      service: this.service,
      closed: this.#closed,
      config: { ...this.#history.state(), control: { source: this.#store?.source ?? 'static', ...this.#controlStatus, cache: cacheState(this.#controlStatus.cache) } },
      services,
      registrations: this.#registrations.state(),
    });
  }

  /**
   * The admin page (src/admin): the live dashboard, state.json and the redacted config dump, as
   * one `(req, res)` handler to mount anywhere. Loopback clients only unless `token` is set.
   * Call statistics are collected from the first handler on, never before.
   */
  adminHandler(options?: AdminOptions): AdminHandler {
    return createAdminHandler(this, {
      state: () => this.state(),
      policies: () => Array.from(this.#runtimes.values(), (runtime) => runtime.policy),
      on: (name, listener) => this.#events.on(name, listener),
      closed: () => this.#closed,
    }, options);
  }

  /**
   * Registers this process in the local Consul agent (the mesh's `consul` agent), with a TTL
   * check meshlet keeps passing (default ttl 10s) or an HTTP check Consul runs. close()
   * deregisters it first. See registration.ts.
   */
  register(options: RegisterOptions): Promise<RegisteredService> {
    if (this.#deregistered !== undefined) {
      const why = this.#closing === undefined ? 'deregister() was called' : 'the mesh is closed';
      return Promise.reject(new MeshError('MESH_CLOSED', `mesh.register() was refused because ${why}; register from a mesh that is running`));
    }
    return this.#registrations.register(options);
  }

  /**
   * Takes every instance this mesh registered out of Consul while the mesh keeps serving and
   * calling, waiting at most 2 s for the agent; never rejects (state() keeps an error). A
   * server shutting down calls it first, so callers stop choosing this instance while it still
   * answers, then stops accepting, drains, and calls close() (which deregisters first itself
   * when nobody did). Later register() calls are refused.
   */
  deregister(): Promise<void> {
    return this.#deregisterWithin(DEREGISTER_BOUND_MS);
  }

  #deregisterWithin(ms: number): Promise<void> {
    this.#deregistered ??= this.#within(this.#registrations.close(), ms).then(() => undefined);
    return this.#deregistered;
  }

  /**
   * Closes the mesh: new calls are refused with MESH_CLOSED at once, and calls waiting for a
   * concurrency slot get it too; calls in flight finish, retries and response bodies included,
   * for up to `timeout` (default 10 s); then whatever still runs fails with MESH_CLOSED. Resolves
   * once every call has finished or the bound has passed, with watches stopped and pools closed.
   */
  close(options?: CloseOptions): Promise<void> {
    if (this.#closing === undefined) {
      let bound: number;
      try {
        bound = options?.timeout === undefined ? DEFAULT_CLOSE_TIMEOUT_MS : durationOrThrow(options.timeout, 'close({ timeout })');
      } catch (error) {
        return Promise.reject(error);
      }
      this.#closing = this.#close(bound);
    }
    return this.#closing;
  }

  async #close(bound: number): Promise<void> {
    const endsAt = this.#clock.now() + bound;
    // First, out of Consul: callers stop choosing this instance while it still answers and
    // admits (DESIGN §1: deregister, then stop admitting, drain, close). A failed or slow
    // agent costs close() at most the bound (state() keeps the error). NOTE: with nothing
    // registered there is nothing to wait for, and calls are refused from the moment close()
    // is called, not a tick later (test/integration/membership-drain.test.ts).
    if (!this.#registrations.any) this.#closed = true;
    await this.#deregisterWithin(Math.min(DEREGISTER_BOUND_MS, bound));
    this.#closed = true;
    // Out of the telemetry registries; its admin page's channel subscriptions end.
    closeTelemetry(this, this.#events);
    await this.#store?.close();
    await this.#applying;
    await this.#consulRouting.close();
    const runtimes = [...this.#runtimes.values(), ...this.#retiring];
    const watches = [...this.#watches.values(), ...this.#closingWatches];
    const refused = meshClosedWhileQueued();
    for (const runtime of runtimes) runtime.stopAdmitting(refused);
    // The calls first (their retries still need the endpoints), then the pools, which wait
    // for the response bodies still being read.
    const drained = Promise.all(runtimes.map((runtime) => runtime.drained())).then(() => Promise.all(watches.map((watch) => watch.close())));
    if (!(await this.#within(drained, endsAt - this.#clock.now()))) {
      const cut = meshClosedCallCut(bound);
      for (const watch of watches) watch.endpoints.destroy(cut);
    }
    await Promise.all(runtimes.map((runtime) => runtime.retire()));
    this.#runtimes = new Map();
    this.#watches.clear();
    this.#sources.clear();
    // Last: discovery and registration may still need the agent while they close.
    await this.#consul.close();
  }

  /** True when `work` settles within `ms`; the wait keeps the process alive (close() is awaited). */
  #within(work: Promise<unknown>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.#clock.setCallTimer(() => resolve(false), Math.max(0, ms));
      const done = (): void => {
        timer.cancel();
        resolve(true);
      };
      work.then(done, done);
    });
  }

  /** One logical call. Never throws: every failure is a rejected promise. */
  #request(name: string, options: RequestOptions): Promise<MeshResponse> {
    if (this.#closed) {
      return Promise.reject(meshClosed(name));
    }
    const runtime = this.#runtimes.get(name);
    if (runtime === undefined) return Promise.reject(unknownService(name, this.#runtimes.keys()));
    let request: MeshRequest;
    try {
      request = parseRequestOptions(name, options);
    } catch (error) {
      return Promise.reject(error);
    }
    // Checked and read once by parseRequestOptions: the options are not read again.
    const { timeout, signal } = parsedCall;
    // NOTE: a call its caller already cancelled goes nowhere: not to the budget, the breaker,
    // a limiter or an endpoint, none of which it says anything about.
    if (signal?.aborted) return Promise.reject(callerAborted(name, 'before it was sent', signal.reason));
    const now = this.#clock.now();
    // Routing first (client-stack.ts): a route's own timeout sets the call's deadline. An
    // unrouted service has no route table, and this is one field read.
    if (runtime.routes !== undefined) return this.#routedRequest(runtime, runtime.routes.route(request), request, timeout, signal, now);
    runtime.enter();
    return runClientCall(runtime.stack, request, name, now, callBudget(runtime.policy, timeout), signal, runtime);
  }

  /** A routed call on its target: the target's deadline, the route's request and response changes (routing/request-rewrite.ts). */
  #routedRequest(runtime: ServiceRuntime, target: TargetStack, request: MeshRequest, timeout: number | undefined, signal: AbortSignal | undefined, now: number): Promise<MeshResponse> {
    runtime.enter();
    const rewrite = target.rewrite;
    const pending = runClientCall(target.stack, rewrite === undefined ? request : rewrite(request), runtime.policy.name, now, callBudget(target.policy, timeout), signal, runtime);
    // Only a route that changes response headers costs a reaction more.
    return target.respond === undefined ? pending : pending.then(target.respond);
  }

  #enqueue(task: () => Promise<void>): void {
    // NOTE: an apply that throws (a build step that failed, a bug) must neither end the chain
    // nor crash the process with an unhandled rejection: the config in force stays, and the
    // failure is reported like any other control-plane error.
    this.#applying = this.#applying.then(task).catch((error: unknown) => {
      const reported = redactError(error instanceof Error ? error : new Error(String(error)));
      this.#events.emitLazy('control-error', () => ({ source: 'config apply', error: reported }));
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
      this.#reject(source, isMeshError(error) && keyOf !== undefined ? locateIssues(error, keyOf) : error);
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
    await this.#cache?.write(redactText(this.#store?.source ?? 'static'), document);
  }

  /**
   * Resolves every service's policy from bootstrap + control, builds runtimes for the
   * services that changed, then swaps them in at once. Returns false when rejected.
   */
  async #apply(control: MeshConfig | undefined, source: string, initial: boolean, keyOf?: (path: string) => string): Promise<boolean> {
    if (this.#closed) return false;
    let policies: ReadonlyMap<string, ServicePolicy>;
    try {
      policies = resolveConfig({ bootstrap: this.#bootstrap, control, baseDir: this.#baseDir }).services;
      assertEndpointLimits(policies);
      // Before any runtime is built: a service's Consul routing is read first (consul-routing.ts).
      await this.#consulRouting.sync(policies);
    } catch (error) {
      if (initial) throw error;
      this.#reject(source, isMeshError(error) && keyOf !== undefined ? locateIssues(error, keyOf) : error);
      return false;
    }
    const next = new Map<string, ServiceRuntime>();
    const changed: string[] = [];
    const startedWatches = new Map<string, EndpointWatch>();
    const reconfigured: [EndpointWatch, ServicePolicy][] = [];
    const newSources = new Map<string, ServiceEndpoints>();
    for (const [name, policy] of policies) {
      // A turn of the event loop before each service: calls keep flowing while a large
      // config is built. Nothing built here is visible before the swap below.
      await setImmediate();
      const current = this.#runtimes.get(name);
      // A routed service is rebuilt when a service its routes send to changes (its subsets, its endpoints' set).
      const targetsKept = servicesRoutedTo(policy).every((other) => {
        const before = this.#runtimes.get(other)?.policy;
        const after = policies.get(other);
        return before !== undefined && after !== undefined && policyEquals(before, after);
      });
      if (current !== undefined && policyEquals(current.policy, policy) && targetsKept) {
        next.set(name, current);
        continue;
      }
      changed.push(name);
      let watch = this.#watches.get(name);
      if (watch === undefined || watch.key !== endpointWatchKey(policy)) {
        watch = new EndpointWatch(policy, { clock: this.#clock, events: this.#events, consul: this.#consul, knownEndpoints: this.#knownEndpoints });
        startedWatches.set(name, watch);
        await watch.start({ clock: this.#clock, events: this.#events }, name);
      } else {
        // A kept endpoint set serves the current runtime too: its new policy waits for the swap.
        reconfigured.push([watch, policy]);
      }
      // NOTE: a service keeps one source across endpoint sets, so the stacks of calls still
      // in flight follow it to the new set at the swap (balance/endpoint-source.ts).
      let source = this.#sources.get(name);
      if (source === undefined) {
        source = new ServiceEndpoints(watch.endpoints);
        newSources.set(name, source);
      }
      // Consul's entries after discovery's first read, waited for only if discovery answered (consul-routing.ts).
      await this.#consulRouting.begin(name, watch.lastError === undefined);
      next.set(name, new ServiceRuntime(policy, watch, source, { clock: this.#clock, events: this.#events }, current, this.#routingFor(name, policies)));
    }
    for (const name of this.#runtimes.keys()) if (!policies.has(name)) changed.push(name);

    // The swap: from here on new calls see the new runtimes; in-flight calls keep theirs.
    const previous = this.#runtimes;
    this.#runtimes = next;
    for (const [watch, policy] of reconfigured) watch.endpoints.reconfigure(policy);
    for (const [name, source] of newSources) this.#sources.set(name, source);
    for (const [name, watch] of startedWatches) {
      const old = this.#watches.get(name);
      this.#watches.set(name, watch);
      this.#sources.get(name)!.current = watch.endpoints;
      // The replaced set closes now: its endpoints finish the attempts already sent to them,
      // and every retry from here on goes to the new set.
      if (old !== undefined && old !== watch) void this.#closeWhenIdle(old, undefined);
    }
    for (const [name, runtime] of previous) {
      if (next.get(name) === runtime) continue;
      void runtime.retire();
      if (runtime.inFlight > 0) {
        this.#retiring.add(runtime);
        void runtime.drained().then(() => this.#retiring.delete(runtime));
      }
      if (!policies.has(name)) {
        const watch = this.#watches.get(name);
        this.#watches.delete(name);
        this.#sources.delete(name);
        // A service that left the config keeps its endpoints until its calls are done.
        if (watch !== undefined) void this.#closeWhenIdle(watch, runtime);
      }
    }
    const version = this.#history.record(source, changed);
    this.#events.emitLazy('config', () => ({ version, source, changedServices: changed }));
    return true;
  }

  /** What a service's routing is built from: meshlet's routes, else Consul's entries (consul-routing.ts), and every service's endpoints. */
  #routingFor(name: string, policies: ReadonlyMap<string, ServicePolicy>): RoutingContext {
    return {
      services: policies,
      consulModel: this.#consulRouting.model(name),
      // Targets from Consul's entries name Consul services; meshlet's routes name meshlet's.
      sourceOf: (service) => this.#sources.get(service) ?? this.#sources.get(this.#consulRouting.meshNameOf(service) ?? ''),
    };
  }

  /**
   * Consul's entries for a service changed: its runtime is rebuilt with the new routing and
   * swapped in (its endpoints, budget and policy kept); calls in flight finish on the old one.
   */
  async #reroute(name: string): Promise<void> {
    const current = this.#runtimes.get(name);
    const source = this.#sources.get(name);
    if (this.#closed || current === undefined || source === undefined) return;
    const policies = new Map([...this.#runtimes].map(([service, runtime]) => [service, runtime.policy]));
    let next: ServiceRuntime;
    try {
      next = new ServiceRuntime(current.policy, current.watch, source, { clock: this.#clock, events: this.#events }, current, this.#routingFor(name, policies));
    } catch (error) {
      this.#reject(`consul-entries:${name}`, error);
      return;
    }
    this.#runtimes = new Map(this.#runtimes).set(name, next);
    void current.retire();
    if (current.inFlight > 0) {
      this.#retiring.add(current);
      void current.drained().then(() => this.#retiring.delete(current));
    }
    const version = this.#history.record(`consul-entries:${name}`, [name]);
    this.#events.emitLazy('config', () => ({ version, source: `consul-entries:${name}`, changedServices: [name] }));
  }

  /** Closes a replaced endpoint watch (after `runtime`'s calls, if given); its pools finish the requests already sent on them. */
  async #closeWhenIdle(watch: EndpointWatch, runtime: ServiceRuntime | undefined): Promise<void> {
    this.#closingWatches.add(watch);
    if (runtime !== undefined) await runtime.drained();
    await watch.close();
    this.#closingWatches.delete(watch);
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
    this.#events.emitLazy('config-rejected', () => ({ source, issues, error: meshError }));
  }
}

/** One service as a transport outside core sees it now (Mesh.serviceView). */
export interface ServiceView {
  readonly runtime: ServiceRuntime;
  readonly endpoints: ServiceEndpoints;
  readonly clock: Clock;
  readonly events: MeshEventEmitter;
}

// NOTE: mesh.grpc() is installed by 'meshlet/grpc' (src/transport/grpc/index.ts), so that
// importing 'meshlet' alone never loads @grpc/grpc-js; until then it says what to import.
Object.defineProperty(Mesh.prototype, 'grpc', {
  configurable: true,
  writable: true,
  value: function grpc(): never {
    throw new MeshError('MESH_BAD_REQUEST', "mesh.grpc() needs meshlet's gRPC transport: add `import 'meshlet/grpc'` once (it needs @grpc/grpc-js ~1.14 installed)");
  },
});

/** A call's time in ms (Infinity: none): its per-call `timeout`, else `policy`'s. */
function callBudget(policy: ServicePolicy, timeout: number | undefined): number {
  return timeout ?? (policy.timeout === false ? Number.POSITIVE_INFINITY : policy.timeout);
}

/** When the config in force is the cacheDir copy: which store it was read from, when, and how old it is. */
function cacheState(cached: CachedConfig | undefined): { readFrom: string; savedAt: string; ageMs: number } | null {
  if (cached === undefined) return null;
  return { readFrom: cached.source, savedAt: new Date(cached.savedAt).toISOString(), ageMs: Math.max(0, Date.now() - cached.savedAt) };
}
