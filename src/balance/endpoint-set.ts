/**
 * One service's live endpoints: their connections, load statistics and health, and the current
 * immutable picker over them. Discovery updates and ejections are rare and rebuild the
 * picker; picks and outcome records are per attempt and only read the snapshot or bump
 * counters on an endpoint. A config change that keeps discovery keeps this set (and so its
 * connections, EWMAs and ejections); `reconfigure` only swaps the balancing and outlier policy.
 */
import type { Attempt } from '../core/attempt.ts';
import type { Clock } from '../core/clock.ts';
import type { Connector, EndpointAddress } from '../core/endpoint.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import type { MeshRequest } from '../core/service.ts';
import type { ServicePolicy } from '../config/policy.ts';
import { MAX_ENDPOINTS_PER_SERVICE } from '../config/limits.ts';
import { LiveEndpoint } from './live-endpoint.ts';
import { OutlierDetector } from './outlier-detector.ts';
import { currentEstimate, observeLatency, priorFor } from './peak-ewma.ts';
import { createPicker } from './create-picker.ts';
import type { Picker } from './picker.ts';
import type { RandomSource } from './weighted-sampler.ts';

export interface EndpointSetOptions {
  service: string;
  policy: ServicePolicy;
  clock: Clock;
  events: MeshEventEmitter;
  /** The service transport's: makes an endpoint's connection when its first attempt is sent (see LiveEndpoint). */
  connect: Connector;
  /** For tests that need reproducible sampling; Math.random otherwise. */
  random?: RandomSource;
}

/** Used for EWMA decay when the balancer is not p2c-ewma, so state still shows a latency. */
const FALLBACK_DECAY_MS = 10_000;

export class EndpointSet {
  readonly service: string;
  readonly #options: EndpointSetOptions;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #outliers: OutlierDetector;
  #policy: ServicePolicy;
  #decayMs: number;
  #byId = new Map<string, LiveEndpoint>();
  #members: readonly LiveEndpoint[] = [];
  #picker: Picker;
  #panic = false;
  #draining = new Set<Promise<void>>();
  /** Retired endpoints whose connections may still hold requests (for `destroy`). */
  readonly #leaving = new Set<LiveEndpoint>();
  /** Addresses the last update reported beyond MAX_ENDPOINTS_PER_SERVICE and left out. */
  #overLimit = 0;
  #closed = false;
  /** What discovery reports failing now (set by its watch): a call finding no endpoints says it. */
  discoveryError: Error | undefined;
  /** Bumped whenever membership or health changes: route targets' views (routing/subset-endpoints.ts) rebuild on a new one. */
  #version = 0;

  constructor(options: EndpointSetOptions) {
    this.service = options.service;
    this.#options = options;
    this.#clock = options.clock;
    this.#random = options.random ?? Math.random;
    this.#policy = options.policy;
    this.#decayMs = decayOf(options.policy);
    this.#outliers = new OutlierDetector(
      {
        service: options.service,
        clock: options.clock,
        events: options.events,
        members: () => this.#members,
        healthChanged: () => this.#rebuild(),
      },
      options.policy.outlier,
    );
    this.#picker = createPicker(options.policy.balancer, [], this.#environment());
  }

  /** A set is its own EndpointSource (see endpoint-source.ts). */
  get current(): EndpointSet {
    return this;
  }

  /** True once closed: it has no endpoints and takes none. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Endpoints known from discovery, ejected ones included. */
  get size(): number {
    return this.#members.length;
  }

  /** True while too few endpoints are healthy and picks ignore health (Envoy's panic mode). */
  get panic(): boolean {
    return this.#panic;
  }

  /** Endpoints whose connection (pool) an attempt has made (connections are made on first use). */
  get pools(): number {
    let count = 0;
    for (const endpoint of this.#members) if (endpoint.hasConnection) count++;
    return count;
  }

  /** Changes whenever the endpoints or their health do. */
  get version(): number {
    return this.#version;
  }

  /** Every endpoint discovery reported, ejected ones included, in discovery order. */
  get members(): readonly LiveEndpoint[] {
    return this.#members;
  }

  /** Addresses discovery last reported beyond MAX_ENDPOINTS_PER_SERVICE, left out of rotation. */
  get overLimit(): number {
    return this.#overLimit;
  }

  update(addresses: readonly EndpointAddress[]): void {
    if (this.#closed) return;
    const next = new Map<string, LiveEndpoint>();
    const now = this.#clock.now();
    const prior = priorFor(this.#byId.values());
    const connect = this.#options.connect;
    let overLimit = 0;
    for (const address of addresses) {
      if (next.has(address.id)) continue;
      // Config validation holds static lists to the limit; this holds any discovery answer
      // to it too, in the order discovery gave, so one huge answer cannot cost the process
      // an endpoint (and eventually a pool) per address.
      if (next.size === MAX_ENDPOINTS_PER_SERVICE) {
        overLimit++;
        continue;
      }
      let endpoint = this.#byId.get(address.id);
      if (endpoint === undefined) {
        endpoint = new LiveEndpoint(address, connect, prior, now);
        endpoint.owner = this;
      }
      else endpoint.address = address; // weight, tags and meta may change; load and health stay
      next.set(address.id, endpoint);
    }
    for (const [id, endpoint] of this.#byId) if (!next.has(id)) this.#retire(endpoint);
    this.#byId = next;
    this.#members = [...next.values()];
    if (overLimit > 0 && this.#overLimit !== overLimit) this.#reportOverLimit(addresses.length, overLimit);
    this.#overLimit = overLimit;
    this.#rebuild();
  }

  reconfigure(policy: ServicePolicy): void {
    this.#policy = policy;
    this.#decayMs = decayOf(policy);
    this.#outliers.reconfigure(policy.outlier);
    this.#rebuild();
  }

  pick(request: MeshRequest, attempt: Attempt): LiveEndpoint | undefined {
    // An ejected endpoint due for a trial call comes first (outlier-detector.ts).
    const trial = this.#outliers.trialFor(request, attempt);
    if (trial !== undefined) return trial;
    const avoid = attempt.avoid;
    return this.#picker.pick(request, avoid instanceof LiveEndpoint ? avoid : undefined);
  }

  /** An ejected endpoint of those `accepts` takes that is due for a trial call (outlier-detector.ts), for a route target's view. */
  trialFor(request: MeshRequest, attempt: Attempt, accepts: (endpoint: LiveEndpoint) => boolean): LiveEndpoint | undefined {
    return this.#outliers.trialFor(request, attempt, accepts);
  }

  /** An attempt is about to be sent to `endpoint`. */
  started(endpoint: LiveEndpoint): void {
    endpoint.inFlight++;
    endpoint.requests++;
  }

  /**
   * An attempt ended. `failed` is the classifier's verdict; undefined when it was cancelled
   * from above (a hedge won, a deadline passed), which says nothing about the endpoint's
   * health and only a lower bound about its latency; null when the caller cancelled it,
   * which says nothing at all.
   */
  finished(endpoint: LiveEndpoint, startedAt: number, failed: boolean | null | undefined): void {
    endpoint.inFlight--;
    const now = this.#clock.now();
    const latency = now - startedAt;
    if (failed === null) {
      // nothing learned
    } else if (failed === undefined) {
      if (latency > endpoint.ewmaMs) observeLatency(endpoint, latency, now, this.#decayMs);
    } else {
      if (failed) endpoint.failures++;
      // NOTE: a failure never makes an endpoint look faster: a server that fails fast would
      // otherwise attract the traffic it fails.
      observeLatency(endpoint, failed && endpoint.observed ? Math.max(latency, endpoint.ewmaMs) : latency, now, this.#decayMs);
      this.#outliers.record(endpoint, failed);
    }
    if (endpoint.draining && endpoint.inFlight === 0) this.#closeConnection(endpoint);
  }

  state(): unknown[] {
    const now = this.#clock.now();
    return this.#members.map((e) => ({
      id: e.address.id,
      weight: e.weight,
      healthy: !e.ejected,
      inFlight: e.inFlight,
      ewmaMs: round(currentEstimate(e, now, this.#decayMs)),
      ejectedUntil: e.ejected ? round(Math.max(0, e.ejectedUntil - now)) : null,
      ejectReason: e.ejectReason ?? null,
      ejections: e.ejections,
      requests: e.requests,
      failures: e.failures,
    }));
  }

  /**
   * Fails whatever the connections still hold with `reason` and closes them now: for the
   * mesh's close once its drain bound has passed (the HTTP transport's pools hand `reason` to
   * each request's handler).
   */
  destroy(reason: Error): void {
    this.#closed = true;
    for (const endpoint of this.#members) this.#retire(endpoint);
    this.#byId = new Map();
    this.#members = [];
    this.#version++;
    this.#picker = createPicker(this.#policy.balancer, [], this.#environment());
    for (const endpoint of this.#leaving) endpoint.destroyConnection(reason);
    this.#leaving.clear();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const endpoint of this.#members) this.#retire(endpoint);
    this.#byId = new Map();
    this.#members = [];
    this.#version++;
    this.#picker = createPicker(this.#policy.balancer, [], this.#environment());
    await Promise.all(this.#draining);
  }

  #rebuild(): void {
    this.#version++;
    const members = this.#members;
    let healthy: readonly LiveEndpoint[] = members.filter((e) => !e.ejected);
    const outlier = this.#policy.outlier;
    const threshold = outlier === false ? 0 : outlier.panicThreshold;
    // Panic: better to spread load over sick endpoints too than to crush the few survivors.
    this.#panic = members.length > 0 && healthy.length * 100 < threshold * members.length;
    if (this.#panic) healthy = members;
    this.#picker = createPicker(this.#policy.balancer, healthy, this.#environment());
  }

  #environment(): { clock: Clock; random: RandomSource } {
    return { clock: this.#clock, random: this.#random };
  }

  /** Out of rotation now; the connection closes once the last in-flight attempt is done. */
  #retire(endpoint: LiveEndpoint): void {
    this.#outliers.forget(endpoint);
    endpoint.draining = true;
    if (endpoint.hasConnection) this.#leaving.add(endpoint);
    if (endpoint.inFlight === 0) this.#closeConnection(endpoint);
  }

  #reportOverLimit(reported: number, left: number): void {
    const message = `discovery reported ${reported} endpoints for ${this.service}; the limit is ${MAX_ENDPOINTS_PER_SERVICE} endpoints per service, so ${left} are left out of rotation`;
    this.#options.events.emitLazy('control-error', () => ({ source: `discovery:${this.service}`, error: new Error(message) }));
  }

  #closeConnection(endpoint: LiveEndpoint): void {
    // An endpoint no attempt was ever sent to has no connection: closing it costs nothing.
    const closing = endpoint.closeConnection();
    if (closing === undefined) return;
    const done = (): void => {
      this.#draining.delete(drained);
      this.#leaving.delete(endpoint);
    };
    const drained: Promise<void> = closing.then(done, done);
    this.#draining.add(drained);
  }
}

function decayOf(policy: ServicePolicy): number {
  return policy.balancer.policy === 'p2c-ewma' ? policy.balancer.decay : FALLBACK_DECAY_MS;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
