/**
 * The mesh: one per process. It owns the config (bootstrap + control store, config-feed.ts),
 * one runtime per logical service (service-table.ts), and hands out clients. Config changes
 * are applied as whole validated snapshots, atomically: a bad push is rejected with every
 * problem listed and the previous config keeps serving. close() ends it all in DESIGN §1's
 * order: out of Consul, stop admitting, drain, close.
 */
import { systemClock, type Clock } from '../core/clock.ts';
import { callerAborted, MeshError } from '../core/errors.ts';
import { invalidArgument, meshClosed, meshClosedCallCut, meshClosedWhileQueued, unknownService } from '../core/mesh-errors.ts';
import { MeshEventEmitter, type Disposer, type Listener, type MeshEventName } from '../core/events.ts';
import { redactError, redactValue } from '../core/redact.ts';
import type { MeshRequest, MeshResponse } from '../core/service.ts';
import type { ServicePolicy } from '../config/policy.ts';
import type { MeshConfig, MeshConfigInput } from '../config/schema.ts';
import { validateMeshConfig } from '../config/validate.ts';
import { durationOrThrow } from '../config/duration.ts';
import type { ControlStore } from '../control/control-store.ts';
import { createControlStore } from '../control/create-control-store.ts';
import type { ServiceEndpoints } from '../balance/endpoint-source.ts';
import type { TargetStack } from '../stack/route-target-stacks.ts';
import { closeTelemetry, installTelemetry } from '../telemetry/telemetry-stack.ts';
import { type AdminHandler, type AdminOptions, createAdminHandler } from '../admin/admin-handler.ts';
import { ConfigFeed } from './config-feed.ts';
import { type ConsulAgent, consulAgentFor } from './consul-agent.ts';
import { ConsulRouting } from './consul-routing.ts';
import { EndpointCache } from './endpoint-cache.ts';
import { LastGoodCache } from './last-good-cache.ts';
import { type RegisteredService, type RegisterOptions, Registrations } from './registration.ts';
import { parsedCall, parseRequestOptions, type RequestOptions } from './request-options.ts';
import { meshFetch } from './fetch.ts';
import { runClientCall } from './client-call.ts';
import type { ServiceRuntime } from './service-runtime.ts';
import { ServiceTable } from './service-table.ts';

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
  /** The one Consul agent of this mesh; opens nothing until something asks for its client. */
  readonly #consul: ConsulAgent;
  /** Services routed by Consul's config entries, and their watches (consul-routing.ts). */
  readonly #consulRouting: ConsulRouting;
  readonly #registrations: Registrations;
  /** One runtime per logical service, with its endpoints (service-table.ts). */
  readonly #services: ServiceTable;
  /** The bootstrap, then the control store's snapshots, applied to the table in turn (config-feed.ts). */
  readonly #config: ConfigFeed;
  readonly #clients = new Map<string, ServiceClient>();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Set once deregistration began (deregister() or close()); settles when it ended or its bound passed. */
  #deregistered: Promise<void> | undefined;

  constructor(options: MeshOptions, bootstrap: MeshConfig, store: ControlStore | undefined, consul: ConsulAgent) {
    this.service = options.service;
    this.#clock = options.clock ?? systemClock;
    this.#consul = consul;
    this.#consulRouting = new ConsulRouting(consul, this.#clock, this.#events, (name) => this.#config.reroute(name));
    this.#registrations = new Registrations(() => consul.client(), this.#clock);
    const knownEndpoints = options.cacheDir === undefined ? undefined : new EndpointCache(options.cacheDir);
    this.#services = new ServiceTable({ clock: this.#clock, events: this.#events, consul, consulRouting: this.#consulRouting, knownEndpoints });
    this.#config = new ConfigFeed({
      bootstrap,
      store,
      cache: options.cacheDir === undefined ? undefined : new LastGoodCache(options.cacheDir),
      baseDir: options.baseDir,
      events: this.#events,
      table: this.#services,
      consulRouting: this.#consulRouting,
      closed: () => this.#closed,
    });
    // Its config and endpoint events feed meshlet:config / meshlet:endpoint, its state the OpenTelemetry gauges.
    installTelemetry(this, this.#events);
  }

  /** Applies the bootstrap config, then the control store's first answer (or the cached one). */
  start(): Promise<void> {
    return this.#config.start();
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
    const runtime = this.#services.runtimes.get(name);
    const endpoints = this.#services.source(name);
    if (runtime === undefined || endpoints === undefined) throw unknownService(name, this.#services.runtimes.keys());
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
    for (const [name, runtime] of this.#services.runtimes) {
      const entries = this.#consulRouting.state(name);
      services[name] = entries === undefined ? runtime.state() : { ...runtime.state(), consulEntries: entries };
    }
    return redactValue({
      service: this.service,
      closed: this.#closed,
      config: this.#config.state(),
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
      policies: () => Array.from(this.#services.runtimes.values(), (runtime) => runtime.policy),
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
    await this.#config.close();
    await this.#consulRouting.close();
    await this.#services.close(meshClosedWhileQueued(), (drained) => this.#within(drained, endsAt - this.#clock.now()), () => meshClosedCallCut(bound));
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
    const runtime = this.#services.runtimes.get(name);
    if (runtime === undefined) return Promise.reject(unknownService(name, this.#services.runtimes.keys()));
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
