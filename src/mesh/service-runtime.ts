/**
 * Everything one logical service needs at run time: its resolved policy, its discovery
 * watch, its live endpoints, and the stack of layers built from the policy.
 *
 * A config change builds a new runtime for the services whose policy changed, and only
 * those. The endpoint set (pools, EWMA, ejections) carries over when discovery, TLS and pool
 * settings are unchanged, so a timeout tweak does not reset load statistics or reconnect;
 * the retry budget carries over while its own policy is unchanged. In-flight calls finish on the stack they started with; the old layers close when the last
 * of them is done.
 */
import type { Clock } from '../core/clock.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import type { Layer, Service } from '../core/service.ts';
import type { EndpointSource } from '../balance/endpoint-source.ts';
import type { ServicePolicy } from '../config/policy.ts';
import { EndpointSet } from '../balance/endpoint-set.ts';
import { createResolver } from '../discovery/create-resolver.ts';
import type { KnownEndpointsStore } from '../discovery/known-endpoints.ts';
import type { Resolver } from '../discovery/resolver.ts';
import { createRetryBudget, type RetryBudget, retryBudgetKey } from '../resilience/retry-budget.ts';
import { buildClientStack, clientLayers, type ServiceWideLayers, serviceWideLayers } from '../stack/client-stack.ts';
import { shareServiceWide } from '../stack/shared-layer.ts';
import { RouteTargetStacks, type TargetStack } from '../stack/route-target-stacks.ts';
import type { RouteTable } from '../routing/route-table.ts';
import { routingModelFromConfig } from '../routing/from-config.ts';
import { DEFAULT_RETRY } from '../config/defaults.ts';
import type { RoutingModel } from '../routing/route-types.ts';
import { httpConnector } from '../transport/http/pool.ts';
import { ConsulAgent } from './consul-agent.ts';

export interface RuntimeShared {
  readonly clock: Clock;
  readonly events: MeshEventEmitter;
  /** The mesh's Consul agent (consul discovery asks it); absent: none configured. */
  readonly consul?: ConsulAgent;
  /** Last-known-good endpoint lists (`cacheDir`); absent: none kept. */
  readonly knownEndpoints?: KnownEndpointsStore;
}

const NO_CONSUL_AGENT = new ConsulAgent(undefined);

/** The part of a runtime that outlives config changes which keep discovery and transport. */
export class EndpointWatch {
  readonly endpoints: EndpointSet;
  readonly #resolver: Resolver;
  readonly key: string;
  lastError: string | undefined;

  constructor(policy: ServicePolicy, shared: RuntimeShared) {
    this.key = endpointWatchKey(policy);
    this.endpoints = new EndpointSet({
      service: policy.name,
      policy,
      clock: shared.clock,
      events: shared.events,
      connect: httpConnector(policy),
    });
    this.#resolver = createResolver(policy, { clock: shared.clock, consul: shared.consul ?? NO_CONSUL_AGENT, knownEndpoints: shared.knownEndpoints });
    this.lastError = undefined;
  }

  async start(shared: RuntimeShared, service: string): Promise<void> {
    await this.#resolver.start({
      update: (addresses) => {
        this.#discoveryFailed(undefined);
        this.endpoints.update(addresses);
        shared.events.emitLazy('endpoints', () => ({ service, endpoints: addresses.map((a) => a.id) }));
      },
      error: (error) => {
        this.#discoveryFailed(error);
        shared.events.emitLazy('control-error', () => ({ source: `discovery:${service}`, error }));
      },
      confirmed: () => {
        this.#discoveryFailed(undefined);
      },
      warning: (error) => {
        shared.events.emitLazy('control-error', () => ({ source: `discovery:${service}`, error }));
      },
    });
  }

  /** state() shows the message; a call finding no endpoints carries the error (mesh-errors noEndpoints). */
  #discoveryFailed(error: Error | undefined): void {
    this.lastError = error?.message;
    this.endpoints.discoveryError = error;
  }

  /** The resolver's own account (Consul: where the endpoints came from, how old), when it keeps one. */
  discoveryState(): Record<string, unknown> | null {
    return this.#resolver.state?.() ?? null;
  }

  async close(): Promise<void> {
    await this.#resolver.close();
    await this.endpoints.close();
  }
}

/** Discovery, TLS and pool settings decide whether endpoints (and their pools) can be kept. */
export function endpointWatchKey(policy: ServicePolicy): string {
  return JSON.stringify([policy.discovery, policy.tls, policy.pool]);
}

/** What a service's routing is built from, and what its targets may name: every service's policy, and its endpoints as they are now. */
export interface RoutingContext {
  readonly services: ReadonlyMap<string, ServicePolicy>;
  /** The service's model from Consul's config entries; used only when it has no `routes` of its own. */
  readonly consulModel?: RoutingModel | undefined;
  sourceOf(service: string): EndpointSource | undefined;
}

export class ServiceRuntime {
  readonly policy: ServicePolicy;
  readonly watch: EndpointWatch;
  readonly budget: RetryBudget;
  readonly layers: readonly Layer[];
  /**
   * The service's rate limit, concurrency limit and breaker, shared by every stack of it (route
   * targets, gRPC clients: stack/shared-layer.ts), so HTTP and gRPC calls judge one state.
   */
  readonly serviceWide: ServiceWideLayers;
  readonly stack: Service;
  /** A routed service's routing step (the mesh asks it for each call's target first); undefined: not routed. */
  readonly routes: RouteTable<TargetStack> | undefined;
  /** Where the routing comes from: the service's `routes`, Consul's config entries, or none. */
  readonly routingSource: 'meshlet' | 'consul' | null;
  /** The layers whose state is shown: a routed service's shared ones once, not each target's. */
  readonly #stateLayers: readonly Layer[];
  /** What the retry budget was made from (retryBudgetKey of budgetPolicyOf): a successor with the same keeps it. */
  readonly #budgetKey: string;
  #inFlight = 0;
  #draining: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  #retired = false;
  #closed: Promise<void> | undefined;

  /**
   * `previous` is the runtime this one replaces: its retry budget carries over when the
   * budget's policy is unchanged, so a config push in the middle of an incident does not
   * hand a failing dependency a fresh allowance of retries.
   */
  constructor(policy: ServicePolicy, watch: EndpointWatch, endpoints: EndpointSource, shared: RuntimeShared, previous?: ServiceRuntime, routing?: RoutingContext) {
    this.policy = policy;
    this.watch = watch;
    // The precedence rule (mesh/consul-routing.ts): meshlet's own routes, else Consul's entries.
    const own = routing === undefined ? undefined : routingModelFromConfig(policy, routing.services);
    const model = own ?? routing?.consulModel;
    const budgetPolicy = budgetPolicyOf(policy, model);
    this.#budgetKey = retryBudgetKey(budgetPolicy);
    this.budget = previous !== undefined && previous.#budgetKey === this.#budgetKey ? previous.budget : createRetryBudget(budgetPolicy, shared.clock);
    this.routingSource = model === undefined ? null : own !== undefined ? 'meshlet' : 'consul';
    if (model === undefined) {
      // Shared: its HTTP stack enters them as they are (no cost), a gRPC client's stack too (stack/shared-layer.ts).
      this.serviceWide = shareServiceWide(serviceWideLayers({ policy, clock: shared.clock, events: shared.events }));
      this.layers = clientLayers({ policy, clock: shared.clock, events: shared.events, endpoints, budget: this.budget, serviceWide: this.serviceWide });
      this.stack = buildClientStack(this.layers, { policy, clock: shared.clock, events: shared.events });
      this.routes = undefined;
      this.#stateLayers = this.layers;
      return;
    }
    const routed = new RouteTargetStacks({ policy, model, clock: shared.clock, events: shared.events, endpoints, sourceOf: (name) => routing!.sourceOf(name), budget: this.budget });
    this.layers = routed.layers;
    this.serviceWide = routed.wide;
    // A routed service's calls go through `routes` (the mesh asks it for the target's stack first).
    this.stack = NOT_A_ROUTED_ENTRY;
    this.routes = routed.table;
    this.#stateLayers = routed.serviceWide;
  }

  /** Counts a call in, so retirement waits for it. */
  enter(): void {
    this.#inFlight++;
  }

  leave(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) {
      this.#drained?.();
      this.#drained = undefined;
      if (this.#retired) void this.#closeLayers();
    }
  }

  /** Resolves once no call is in flight on this runtime (their response bodies aside). */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    this.#draining ??= new Promise<void>((resolve) => {
      this.#drained = () => {
        this.#draining = undefined;
        resolve();
      };
    });
    return this.#draining;
  }

  /** The mesh is closing: calls waiting for admission (a concurrency slot) get `reason`; calls running go on. */
  stopAdmitting(reason: Error): void {
    for (const layer of this.layers) layer.stopAdmitting?.(reason);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Stops taking new calls; closes the layers once the calls in flight have finished. */
  retire(): Promise<void> {
    this.#retired = true;
    if (this.#inFlight === 0) return this.#closeLayers();
    return Promise.resolve();
  }

  #closeLayers(): Promise<void> {
    this.#closed ??= Promise.all(this.layers.map((layer) => layer.close?.())).then(() => undefined);
    return this.#closed;
  }

  state(): Record<string, unknown> {
    const layers: Record<string, unknown> = {};
    for (const layer of this.#stateLayers) {
      // The balancer's state is the endpoint set's, reported once below.
      if (layer.name === 'balancer') continue;
      const state = layer.state?.();
      if (state !== undefined) layers[layer.name] = state;
    }
    return {
      balancer: this.policy.balancer.policy,
      panic: this.watch.endpoints.panic,
      endpoints: this.watch.endpoints.state(),
      // Pools are made on an endpoint's first attempt: the count shows what the process holds.
      pools: this.watch.endpoints.pools,
      endpointsOverLimit: this.watch.endpoints.overLimit,
      discoveryError: this.watch.lastError ?? null,
      discovery: this.watch.discoveryState(),
      budget: this.budget.state(),
      inFlight: this.#inFlight,
      routing: this.routingSource,
      ...(this.routes === undefined ? {} : { routes: this.routes.state() }),
      ...layers,
    };
  }
}

/** A routed runtime's `stack`: never called (the mesh routes first); a caller that did has a bug, said so rather than routing around the route's timeout. */
const NOT_A_ROUTED_ENTRY: Service = {
  call: () => Promise.reject(new Error("a bug in meshlet: a routed service's calls go through its route table (ServiceRuntime.routes), never its stack")),
};

/**
 * The policy the service's retry budget is made from. A service with retries off has no budget,
 * but a route of it that retries runs on the built-in retry settings (config/finalize-routes.ts,
 * stack/route-target-stacks.ts mergedPolicy), budget included: its retries draw on that budget,
 * never on an unlimited one.
 */
function budgetPolicyOf(policy: ServicePolicy, model: RoutingModel | undefined): ServicePolicy {
  if (policy.retry !== false || model === undefined || !model.routes.some((route) => route.retry !== undefined)) return policy;
  return { ...policy, retry: DEFAULT_RETRY };
}
