/**
 * The mesh's services as calls see them: one runtime per logical service (policy, stack,
 * budget, breaker, limits), the endpoint watch it balances over, and the service's endpoint
 * source, kept across endpoint sets. A resolved config is built beside the table and swapped
 * in at once (`apply`): new calls see the new runtimes, calls in flight finish on theirs, and
 * the runtimes and watches replaced are kept until those calls end, so close() drains them too.
 */
import { setImmediate } from 'node:timers/promises';
import type { Clock } from '../core/clock.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import type { MeshError } from '../core/errors.ts';
import type { ServicePolicy } from '../config/policy.ts';
import { policyEquals } from '../config/policy-key.ts';
import { ServiceEndpoints } from '../balance/endpoint-source.ts';
import { servicesRoutedTo } from '../routing/from-config.ts';
import type { ConsulAgent } from './consul-agent.ts';
import type { ConsulRouting } from './consul-routing.ts';
import type { EndpointCache } from './endpoint-cache.ts';
import { EndpointWatch, endpointWatchKey, type RoutingContext, ServiceRuntime } from './service-runtime.ts';

/** What the table builds runtimes and watches with: the mesh's. */
export interface ServiceTableDeps {
  readonly clock: Clock;
  readonly events: MeshEventEmitter;
  readonly consul: ConsulAgent;
  readonly consulRouting: ConsulRouting;
  /** Each Consul-discovered service's last endpoint list, beside the config cache (`cacheDir`). */
  readonly knownEndpoints: EndpointCache | undefined;
}

export class ServiceTable {
  readonly #deps: ServiceTableDeps;
  /** Replaced by a new map at each swap: a reader holding the old one sees one whole config. */
  #runtimes: ReadonlyMap<string, ServiceRuntime> = new Map();
  /** Per service, the endpoint set its stacks balance over now (see balance/endpoint-source.ts). */
  readonly #sources = new Map<string, ServiceEndpoints>();
  readonly #watches = new Map<string, EndpointWatch>();
  /** Replaced runtimes with calls still in flight, and replaced watches still closing: close() waits for them too. */
  readonly #retiring = new Set<ServiceRuntime>();
  readonly #closingWatches = new Set<EndpointWatch>();

  constructor(deps: ServiceTableDeps) {
    this.#deps = deps;
  }

  /** The runtimes calls start on now, by service name. */
  get runtimes(): ReadonlyMap<string, ServiceRuntime> {
    return this.#runtimes;
  }

  source(name: string): ServiceEndpoints | undefined {
    return this.#sources.get(name);
  }

  /**
   * Builds runtimes for the services whose policy changed (or whose routes' targets did), then
   * swaps them all in at once. Returns the names of the services changed, added or removed.
   * NOTE: a turn of the event loop before each service: calls keep flowing while a large
   * config is built, and nothing built is visible before the swap.
   */
  async apply(policies: ReadonlyMap<string, ServicePolicy>): Promise<string[]> {
    const { clock, events, consul, consulRouting, knownEndpoints } = this.#deps;
    const next = new Map<string, ServiceRuntime>();
    const changed: string[] = [];
    const startedWatches = new Map<string, EndpointWatch>();
    const reconfigured: [EndpointWatch, ServicePolicy][] = [];
    const newSources = new Map<string, ServiceEndpoints>();
    for (const [name, policy] of policies) {
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
        watch = new EndpointWatch(policy, { clock, events, consul, knownEndpoints });
        startedWatches.set(name, watch);
        await watch.start({ clock, events }, name);
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
      await consulRouting.begin(name, watch.lastError === undefined);
      next.set(name, new ServiceRuntime(policy, watch, source, { clock, events }, current, this.#routingFor(name, policies)));
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
      this.#retire(runtime);
      if (!policies.has(name)) {
        const watch = this.#watches.get(name);
        this.#watches.delete(name);
        this.#sources.delete(name);
        // A service that left the config keeps its endpoints until its calls are done.
        if (watch !== undefined) void this.#closeWhenIdle(watch, runtime);
      }
    }
    return changed;
  }

  /**
   * Rebuilds `name`'s runtime with its routing read anew (Consul's entries changed), keeping
   * its endpoints, budget and policy, and swaps it in; calls in flight finish on the old one.
   * False when there is no such service; throws when the new routing cannot be built.
   */
  reroute(name: string): boolean {
    const current = this.#runtimes.get(name);
    const source = this.#sources.get(name);
    if (current === undefined || source === undefined) return false;
    const policies = new Map([...this.#runtimes].map(([service, runtime]) => [service, runtime.policy]));
    const { clock, events } = this.#deps;
    const next = new ServiceRuntime(current.policy, current.watch, source, { clock, events }, current, this.#routingFor(name, policies));
    this.#runtimes = new Map(this.#runtimes).set(name, next);
    this.#retire(current);
    return true;
  }

  /**
   * Closes every service: each runtime, the replaced ones with calls still in flight included,
   * refuses new calls and the calls queued for a slot with `refused`; the calls finish (their
   * retries still need the endpoints), then the endpoint sets close (the pools wait for the
   * response bodies still being read). When that takes longer than `within` allows, whatever
   * still runs fails with `cut()`. Then every runtime is retired and the table emptied.
   */
  async close(refused: MeshError, within: (work: Promise<unknown>) => Promise<boolean>, cut: () => MeshError): Promise<void> {
    const runtimes = [...this.#runtimes.values(), ...this.#retiring];
    const watches = [...this.#watches.values(), ...this.#closingWatches];
    for (const runtime of runtimes) runtime.stopAdmitting(refused);
    const drained = Promise.all(runtimes.map((runtime) => runtime.drained())).then(() => Promise.all(watches.map((watch) => watch.close())));
    if (!(await within(drained))) {
      const error = cut();
      for (const watch of watches) watch.endpoints.destroy(error);
    }
    await Promise.all(runtimes.map((runtime) => runtime.retire()));
    this.#runtimes = new Map();
    this.#watches.clear();
    this.#sources.clear();
  }

  /** What a service's routing is built from: meshlet's routes, else Consul's entries (consul-routing.ts), and every service's endpoints. */
  #routingFor(name: string, policies: ReadonlyMap<string, ServicePolicy>): RoutingContext {
    const consulRouting = this.#deps.consulRouting;
    return {
      services: policies,
      consulModel: consulRouting.model(name),
      // Targets from Consul's entries name Consul services; meshlet's routes name meshlet's.
      sourceOf: (service) => this.#sources.get(service) ?? this.#sources.get(consulRouting.meshNameOf(service) ?? ''),
    };
  }

  /** A replaced runtime stops; kept for close() while its calls are in flight. */
  #retire(runtime: ServiceRuntime): void {
    void runtime.retire();
    if (runtime.inFlight > 0) {
      this.#retiring.add(runtime);
      void runtime.drained().then(() => this.#retiring.delete(runtime));
    }
  }

  /** Closes a replaced endpoint watch (after `runtime`'s calls, if given); its pools finish the requests already sent on them. */
  async #closeWhenIdle(watch: EndpointWatch, runtime: ServiceRuntime | undefined): Promise<void> {
    this.#closingWatches.add(watch);
    if (runtime !== undefined) await runtime.drained();
    await watch.close();
    this.#closingWatches.delete(watch);
  }
}
