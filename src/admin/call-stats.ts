/**
 * The admin page's call statistics, from meshlet's diagnostics channels (telemetry/channels.ts):
 * per service the logical calls (what callers saw) beside the attempts (what went on the wire),
 * so the page shows what retries and hedges did — Hystrix's and Finagle's two views of one
 * service. Built only when an admin handler exists: until someone subscribes, the publishers
 * build nothing (they check `hasSubscribers`), and `close()` unsubscribes.
 *
 * Memory is bounded: per service a 60-slot ring of per-second counters, a ring of latency
 * samples, and a 10-second ring per endpoint; at most MAX_SERVICES services and
 * MAX_ENDPOINTS endpoints per service are tracked. When a map is full, a service idle for the
 * whole minute of history (an endpoint idle for the window) makes room: nothing of it would show
 * any more, and services and endpoints that come and go must not lock newer ones out. Only
 * when every one is live is a message counted as `untracked`.
 *
 * NOTE: the channels are process-wide: every mesh in the process publishes on them, often for
 * services of the same name. A collector made for a mesh (`mesh`: its id, telemetry/mesh-id.ts)
 * counts only that mesh's messages.
 */
import type { AttemptEndMessage, CallEndMessage, EndpointMessage } from '../telemetry/channels.ts';
import { attemptEndChannel, callEndChannel, endpointChannel } from '../telemetry/channels.ts';
import { type Percentiles, LatencyWindow } from './latency-window.ts';
import { SecondRing } from './second-ring.ts';

const HISTORY_SECONDS = 60;
/** Rates, success rates and percentiles are over the last this many whole seconds. */
export const WINDOW_SECONDS = 10;
const LATENCY_SAMPLES = 2048;
const MAX_SERVICES = 256;
const MAX_ENDPOINTS = 256;

const SERVICE_FIELDS = ['calls', 'callsOk', 'callsRefused', 'attempts', 'attemptsOk', 'attemptsFailed', 'hedges'] as const;
type ServiceField = (typeof SERVICE_FIELDS)[number];
/** `answeredMs`: the summed durations of the attempts that got a decided answer (success or failure), `answered` their count. */
const ENDPOINT_FIELDS = ['attempts', 'ok', 'failed', 'answered', 'answeredMs'] as const;

/** Errors by which the mesh itself refused a call (breaker, limits): the caller saw a failure the dependency never did. */
const REFUSALS = new Set(['MESH_CIRCUIT_OPEN', 'MESH_RATE_LIMITED', 'MESH_CONCURRENCY_LIMIT']);

export interface ServiceStats {
  /** Logical calls per second, and the share of them that succeeded (null: none in the window). */
  readonly callsPerSecond: number;
  readonly successRate: number | null;
  /** Calls the mesh refused (open breaker, rate or concurrency limit) per second. */
  readonly refusedPerSecond: number;
  /** Attempts per second (retries and hedges included), and the share of decided ones that succeeded. */
  readonly attemptsPerSecond: number;
  readonly attemptSuccessRate: number | null;
  readonly hedgesPerSecond: number;
  readonly latencyMs: Percentiles;
  /** Per second over the last minute, oldest first: logical calls and failed ones (sparklines). */
  readonly history: { readonly calls: number[]; readonly failures: number[] };
  /**
   * Per endpoint over the window: attempts, the share of decided ones that succeeded, and their
   * mean duration (null: none answered). NOTE: the dashboard shows the mean beside the
   * balancer's EWMA, which decays toward zero while an endpoint is idle (balance/peak-ewma.ts:
   * so it is probed again) and so read 0 ms for a live endpoint between calls.
   */
  readonly endpoints: Record<string, EndpointStats>;
}

export interface EndpointStats {
  readonly attempts: number;
  readonly successRate: number | null;
  readonly latencyMs: number | null;
}

interface ServiceCounters {
  readonly ring: SecondRing<ServiceField>;
  readonly latency: LatencyWindow;
  readonly endpoints: Map<string, SecondRing<(typeof ENDPOINT_FIELDS)[number]>>;
  cached?: { readonly second: number; readonly stats: ServiceStats };
}

export class CallStats {
  readonly #now: () => number;
  readonly #services = new Map<string, ServiceCounters>();
  /** Messages for services or endpoints past the bounds. */
  untracked = 0;
  readonly #expired: () => boolean;
  readonly #onExpired: () => void;
  /** The mesh whose messages count; undefined: every message. */
  readonly #mesh: number | undefined;
  readonly #onCallEnd = (message: unknown): void => {
    if (this.#counts(message)) this.#callEnded(message as CallEndMessage);
  };
  readonly #onAttemptEnd = (message: unknown): void => {
    if (this.#counts(message)) this.#attemptEnded(message as AttemptEndMessage);
  };
  readonly #onEndpoint = (message: unknown): void => {
    if (this.#counts(message)) this.#endpointChanged(message as EndpointMessage);
  };
  #open = true;

  /**
   * `now`: milliseconds of any monotonic clock (tests pass their own). `expired`: true once
   * nobody can want these statistics any more (the mesh closed); the next message then calls
   * `onExpired` (whose owner closes this) instead of being counted. `mesh`: the id of the mesh
   * whose messages count (others' are ignored); without it, every message counts.
   */
  constructor(options: { now?: () => number; expired?: () => boolean; onExpired?: () => void; mesh?: number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#mesh = options.mesh;
    this.#expired = options.expired ?? (() => false);
    this.#onExpired = options.onExpired ?? (() => this.close());
    callEndChannel.subscribe(this.#onCallEnd);
    attemptEndChannel.subscribe(this.#onAttemptEnd);
    endpointChannel.subscribe(this.#onEndpoint);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    callEndChannel.unsubscribe(this.#onCallEnd);
    attemptEndChannel.unsubscribe(this.#onAttemptEnd);
    endpointChannel.unsubscribe(this.#onEndpoint);
  }

  /**
   * The statistics of `service`, or undefined when no call of it has been seen. Computed at
   * most once a second per service (every viewer polls each second; a sort per poll per viewer
   * would cost what one per second does): within a second the same answer is handed out.
   */
  service(service: string): ServiceStats | undefined {
    const counters = this.#services.get(service);
    if (counters === undefined) return undefined;
    const now = this.#second();
    if (counters.cached?.second !== now) counters.cached = { second: now, stats: this.#compute(counters, now) };
    return counters.cached.stats;
  }

  #compute(counters: ServiceCounters, now: number): ServiceStats {
    const { ring } = counters;
    const perSecond = (field: ServiceField): number => round(ring.sum(now, field, WINDOW_SECONDS) / WINDOW_SECONDS);
    const calls = ring.sum(now, 'calls', WINDOW_SECONDS);
    const attemptsOk = ring.sum(now, 'attemptsOk', WINDOW_SECONDS);
    const attemptsDecided = attemptsOk + ring.sum(now, 'attemptsFailed', WINDOW_SECONDS);
    // NOTE: keyed by what the channel says; a null prototype takes any key as data.
    const endpoints: Record<string, EndpointStats> = Object.create(null);
    for (const [id, endpoint] of counters.endpoints) {
      const ok = endpoint.sum(now, 'ok', WINDOW_SECONDS);
      const answered = endpoint.sum(now, 'answered', WINDOW_SECONDS);
      endpoints[id] = {
        attempts: endpoint.sum(now, 'attempts', WINDOW_SECONDS),
        successRate: share(ok, ok + endpoint.sum(now, 'failed', WINDOW_SECONDS)),
        latencyMs: answered === 0 ? null : Math.round((endpoint.sum(now, 'answeredMs', WINDOW_SECONDS) / answered) * 100) / 100,
      };
    }
    const callSeries = ring.series(now, 'calls', HISTORY_SECONDS);
    const okSeries = ring.series(now, 'callsOk', HISTORY_SECONDS);
    return {
      callsPerSecond: perSecond('calls'),
      successRate: share(ring.sum(now, 'callsOk', WINDOW_SECONDS), calls),
      refusedPerSecond: perSecond('callsRefused'),
      attemptsPerSecond: perSecond('attempts'),
      attemptSuccessRate: share(attemptsOk, attemptsDecided),
      hedgesPerSecond: perSecond('hedges'),
      // The second in progress counts for latency: a call that ended is complete.
      latencyMs: counters.latency.percentiles(now, WINDOW_SECONDS + 1),
      history: { calls: callSeries, failures: callSeries.map((n, i) => n - okSeries[i]!) },
      endpoints,
    };
  }

  /**
   * NOTE: why the check rides on the messages: a closed mesh publishes nothing more, but the
   * channels are process-wide, so its forgotten collector would go on counting every other
   * mesh's calls. The first such message ends it; until one comes, it costs nothing.
   */
  #stale(): boolean {
    if (!this.#expired()) return false;
    this.#onExpired();
    return true;
  }

  /** The message is this collector's to count: it is still wanted, and the message is its mesh's. */
  #counts(message: unknown): boolean {
    return !this.#stale() && (this.#mesh === undefined || (message as { mesh?: unknown }).mesh === this.#mesh);
  }

  #second(): number {
    return Math.floor(this.#now() / 1000);
  }

  #counters(service: string, second: number): ServiceCounters | undefined {
    let counters = this.#services.get(service);
    if (counters === undefined) {
      if (this.#services.size >= MAX_SERVICES && !evictIdle(this.#services, (idle) => idle.ring.latest < second - HISTORY_SECONDS)) return undefined;
      counters = { ring: new SecondRing(SERVICE_FIELDS, HISTORY_SECONDS), latency: new LatencyWindow(LATENCY_SAMPLES), endpoints: new Map() };
      this.#services.set(service, counters);
    }
    return counters;
  }

  #callEnded(message: CallEndMessage): void {
    const second = this.#second();
    const counters = this.#counters(message.service, second);
    if (counters === undefined) return void this.untracked++;
    // A call its own caller cancelled says nothing about the service: not counted.
    if (message.errorCode === 'MESH_ABORTED') return;
    counters.ring.add(second, 'calls');
    if (message.outcome === 'success') counters.ring.add(second, 'callsOk');
    if (message.errorCode !== undefined && REFUSALS.has(message.errorCode)) counters.ring.add(second, 'callsRefused');
    counters.latency.record(second, message.durationMs);
  }

  #attemptEnded(message: AttemptEndMessage): void {
    const second = this.#second();
    const counters = this.#counters(message.service, second);
    if (counters === undefined) return void this.untracked++;
    counters.ring.add(second, 'attempts');
    if (message.hedge) counters.ring.add(second, 'hedges');
    // A hedge that lost, an abort: neither a success nor a failure of the dependency.
    if (message.outcome === 'success') counters.ring.add(second, 'attemptsOk');
    else if (message.outcome === 'failure') counters.ring.add(second, 'attemptsFailed');
    let endpoint = counters.endpoints.get(message.endpoint);
    if (endpoint === undefined) {
      if (counters.endpoints.size >= MAX_ENDPOINTS && !evictIdle(counters.endpoints, (idle) => idle.latest < second - WINDOW_SECONDS - 1)) return void this.untracked++;
      endpoint = new SecondRing(ENDPOINT_FIELDS, WINDOW_SECONDS + 1);
      counters.endpoints.set(message.endpoint, endpoint);
    }
    endpoint.add(second, 'attempts');
    if (message.outcome === 'success') endpoint.add(second, 'ok');
    else if (message.outcome === 'failure') endpoint.add(second, 'failed');
    else return;
    endpoint.add(second, 'answered');
    endpoint.add(second, 'answeredMs', message.durationMs);
  }

  #endpointChanged(message: EndpointMessage): void {
    // Discovery took it out: its counters go with it (an autoscaled fleet must not grow this map).
    if (message.event === 'removed') this.#services.get(message.service)?.endpoints.delete(message.endpoint);
  }
}

/** Deletes the first entry of a full map that `idle` says is idle; false when none is. */
function evictIdle<V>(map: Map<string, V>, idle: (value: V) => boolean): boolean {
  for (const [key, value] of map) {
    if (idle(value)) return map.delete(key);
  }
  return false;
}

function share(part: number, whole: number): number | null {
  return whole === 0 ? null : round(part / whole);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
