/**
 * A route target's endpoints: a filtered view of a service's EndpointSet (the endpoints its
 * subset selects), with failover. The view holds no endpoint of its own: it picks from the
 * set's LiveEndpoints, so an attempt's latency and outcome land in the set (EWMA, in-flight,
 * outlier ejection) and carry across every target and subset that shares the endpoint.
 *
 * The view is rebuilt when the set's membership or health changes (its `version`), checked on
 * each pick with one compare per chain entry, never per call otherwise: membership changes
 * rarely, picks happen on every attempt (DESIGN §2).
 *
 * Failover: the chain is the target first, then its failover targets in order. The first entry
 * with a healthy (not ejected) endpoint serves; when none has one, the first entry with any
 * endpoint serves (all ejected: better an ejected endpoint than none, as the set's panic mode
 * does); when none has any, the pick finds nothing and the call fails with MESH_NO_ENDPOINTS.
 * An ejected endpoint of the target's own subset that is due for a trial call (outlier
 * `probeInterval`) gets the next eligible call, as in the whole set, also while a failover entry
 * serves: its success re-admits it and the target takes its traffic back.
 */
import type { Attempt } from '../core/attempt.ts';
import type { MeshRequest } from '../core/service.ts';
import type { BalancerPolicy } from '../config/policy.ts';
import type { Clock } from '../core/clock.ts';
import { MeshError } from '../core/errors.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import { createPicker } from '../balance/create-picker.ts';
import type { BalancingSet } from '../balance/endpoint-source.ts';
import type { EndpointSet } from '../balance/endpoint-set.ts';
import { LiveEndpoint } from '../balance/live-endpoint.ts';
import type { Picker } from '../balance/picker.ts';
import type { Subset } from './subset.ts';

/** One entry of a target's chain: a service's endpoints (as they are now) and the subset that filters them. */
export interface ChainEntry {
  /** `payments/v2`, `payments` (the whole service): shown in state(). */
  readonly label: string;
  /** The service's set now; undefined while the service has none (it left the config). */
  set(): EndpointSet | undefined;
  /** Undefined: every endpoint of the service. */
  readonly subset: Subset | undefined;
}

export class SubsetEndpoints implements BalancingSet {
  readonly service: string;
  readonly #chain: readonly ChainEntry[];
  readonly #balancer: BalancerPolicy;
  readonly #events: MeshEventEmitter;
  readonly #env: { clock: Clock; random: () => number };
  readonly #seenSets: (EndpointSet | undefined)[];
  readonly #seenVersions: number[];
  #picker: Picker;
  #members: readonly LiveEndpoint[] = [];
  #serving: EndpointSet | undefined = undefined;
  #servingIndex = -1;
  #built = false;
  /** Set by a pick that chose a trial of the target's own subset (started() accounts it there). */
  #trialSet: EndpointSet | undefined = undefined;
  /** In the target's own subset (ejected ones included): the trials it may take. */
  readonly #ownMember = (endpoint: LiveEndpoint): boolean => this.#chain[0]!.subset?.accepts(endpoint.address) ?? true;
  /** Picks a failover entry served (the target's own had no healthy endpoint). */
  failoverPicks = 0;

  constructor(service: string, chain: readonly ChainEntry[], balancer: BalancerPolicy, clock: Clock, events: MeshEventEmitter) {
    this.service = service;
    this.#events = events;
    this.#chain = chain;
    this.#balancer = balancer;
    this.#env = { clock, random: Math.random };
    this.#seenSets = chain.map(() => undefined);
    this.#seenVersions = chain.map(() => -1);
    this.#picker = createPicker(balancer, [], this.#env);
  }

  get closed(): boolean {
    return this.#chain[0]!.set()?.closed ?? true;
  }

  get size(): number {
    this.#refresh();
    return this.#members.length;
  }

  get panic(): boolean {
    return false;
  }

  get discoveryError(): Error | undefined {
    const set: BalancingSet | undefined = this.#chain[0]!.set();
    return set?.discoveryError;
  }

  /**
   * A target naming a service meshlet's config does not have (a Consul router, splitter or
   * failover may name any service in Consul's catalog), when no failover serves instead:
   * MESH_UNKNOWN_SERVICE saying what to add, rather than "endpoints closed" or "none registered".
   */
  noPickReason(): MeshError | undefined {
    const target = this.#chain[0]!;
    if (target.set() !== undefined || this.#servingIndex !== -1) return undefined;
    return new MeshError(
      'MESH_UNKNOWN_SERVICE',
      `call to '${this.service}' was routed to '${target.label}', which names no service in meshlet's config (Consul's entries may name any service in its catalog; meshlet calls only the services it is configured for); add services.${target.label.split('/')[0]} with discovery { type: 'consul' }, or change the route`,
      { service: this.service },
    );
  }

  /** Which chain entry serves now (its label), or null when none has an endpoint. */
  get servedBy(): string | null {
    this.#refresh();
    return this.#servingIndex === -1 ? null : this.#chain[this.#servingIndex]!.label;
  }

  pick(request: MeshRequest, attempt: Attempt): LiveEndpoint | undefined {
    this.#refresh();
    const own = this.#seenSets[0];
    const trial = own === undefined ? undefined : own.trialFor(request, attempt, this.#ownMember);
    if (trial !== undefined) {
      this.#trialSet = own;
      return trial;
    }
    this.#trialSet = undefined;
    if (this.#servingIndex > 0) this.failoverPicks++;
    const avoid = attempt.avoid;
    return this.#picker.pick(request, avoid instanceof LiveEndpoint ? avoid : undefined);
  }

  started(endpoint: LiveEndpoint): void {
    (this.#trialSet ?? this.#serving)?.started(endpoint);
  }

  state(): unknown[] {
    this.#refresh();
    const ids = new Set(this.#members.map((e) => e.address.id));
    return (this.#serving?.state() ?? []).filter((e) => ids.has((e as { id: string }).id));
  }

  #refresh(): void {
    const chain = this.#chain;
    let stale = false;
    for (let i = 0; i < chain.length; i++) {
      const set = chain[i]!.set();
      if (set !== this.#seenSets[i] || (set !== undefined && set.version !== this.#seenVersions[i])) {
        stale = true;
        break;
      }
    }
    if (stale) this.#rebuild();
  }

  #rebuild(): void {
    const chain = this.#chain;
    let fallback = -1;
    let fallbackMembers: LiveEndpoint[] = [];
    let serving = -1;
    let healthy: LiveEndpoint[] = [];
    for (let i = 0; i < chain.length; i++) {
      const entry = chain[i]!;
      const set = entry.set();
      this.#seenSets[i] = set;
      this.#seenVersions[i] = set?.version ?? -1;
      if (set === undefined || serving !== -1) continue;
      const subset = entry.subset;
      const members = subset === undefined ? [...set.members] : set.members.filter((e) => subset.accepts(e.address));
      const ready = members.filter((e) => !e.ejected);
      if (ready.length > 0) {
        serving = i;
        healthy = ready;
      } else if (members.length > 0 && fallback === -1) {
        fallback = i;
        fallbackMembers = members;
      }
    }
    if (serving === -1) {
      serving = fallback;
      healthy = fallbackMembers;
    }
    // A target starts out served by itself: anything else, then and later, is reported.
    if (serving !== (this.#built ? this.#servingIndex : 0)) {
      const target = chain[0]!.label;
      const servedBy = serving === -1 ? null : chain[serving]!.label;
      this.#events.emitLazy('failover', () => ({ service: this.service, target, servedBy }));
    }
    this.#built = true;
    this.#servingIndex = serving;
    this.#serving = serving === -1 ? chain[0]!.set() : chain[serving]!.set();
    this.#members = healthy;
    this.#picker = createPicker(this.#balancer, healthy, this.#env);
  }
}
