/**
 * Outlier ejection (Envoy's consecutive-5xx detection, Finagle's failure accrual): an
 * endpoint that fails `consecutiveFailures` times in a row is taken out of rotation for
 * `ejectFor`, doubled on each repeat up to `maxEjectFor`, then re-admitted on a clock timer.
 * Why a cap on ejections: when many endpoints fail at once the cause is usually the caller
 * or a shared dependency, and ejecting them all would turn a partial outage into a total one;
 * `maxEjectedPercent` keeps enough in rotation. "Failure" is the shared classifier's verdict.
 *
 * Early re-admission by trial calls (Finagle's probe after `markDeadFor`, Envoy's
 * `successful_active_health_check_uneject_host` without a separate health checker). A
 * restarted instance answers again long before a 30 s ejection ends, and nothing tells the
 * balancer so. Every `probeInterval` (doubled with each repeated ejection, as the ejection
 * time is) an ejected endpoint may take one real call, and a success re-admits it at once;
 * a failure leaves it ejected until the next trial or the end of `ejectFor`.
 * - Why real calls and not a TCP connect: an endpoint ejected for answering 503 accepts
 *   connections all along; only a call shows whether it answers well again. A connect probe
 *   would also need a socket outside the transport, which owns all connections.
 * - Which calls: only an idempotent one with a replayable body, on its first try (not a
 *   retry, not a hedge), because a trial may fail: the retry layer can then send it again
 *   to a healthy endpoint (the default retry policy does so for refused connections, resets
 *   and 502/503/504). With retries off a failed trial fails the call that carried it, once
 *   per interval, which is still less than `ejectFor` ending would expose. A service that
 *   only sends non-idempotent calls waits `ejectFor` out.
 * - One at a time: a trial is offered only when no call is in flight to the endpoint.
 * Timers are the clock's background timers: an ejection never keeps the process alive.
 */
import type { Attempt } from '../core/attempt.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import type { MeshRequest } from '../core/service.ts';
import type { OutlierPolicy } from '../config/policy.ts';
import type { LiveEndpoint } from './live-endpoint.ts';

export interface OutlierHost {
  readonly service: string;
  readonly clock: Clock;
  readonly events: MeshEventEmitter;
  /** Every current endpoint (ejected ones included): the cap is a share of them all. */
  members(): readonly LiveEndpoint[];
  /** Health changed: the picker must be rebuilt. */
  healthChanged(): void;
}

/** The trial schedule of one ejected endpoint. */
interface TrialSchedule {
  readonly interval: number;
  timer: TimerHandle | undefined;
  /** A trial call went out during this ejection, so a success now is evidence of health. */
  sent: boolean;
}

export class OutlierDetector {
  readonly #host: OutlierHost;
  #policy: OutlierPolicy | false;
  readonly #trials = new Map<LiveEndpoint, TrialSchedule>();
  /** Ejected endpoints whose trial is due, waiting for a call that may carry it. */
  readonly #due: LiveEndpoint[] = [];

  constructor(host: OutlierHost, policy: OutlierPolicy | false) {
    this.#host = host;
    this.#policy = policy;
  }

  /** Off: every ejection ends now (the caller rebuilds the picker). */
  reconfigure(policy: OutlierPolicy | false): void {
    this.#policy = policy;
    if (policy === false) for (const endpoint of this.#host.members()) if (endpoint.ejected) this.#readmit(endpoint, false);
  }

  /**
   * An ejected endpoint this attempt should try, or undefined (nearly always: one array length
   * check). `accepts`: only an endpoint it accepts (a route target's subset) is tried.
   */
  trialFor(request: MeshRequest, attempt: Attempt, accepts?: (endpoint: LiveEndpoint) => boolean): LiveEndpoint | undefined {
    const due = this.#due;
    if (due.length === 0) return undefined;
    if (!request.idempotent || !request.replayable || attempt.number !== 1 || attempt.hedge) return undefined;
    const index = accepts === undefined ? 0 : due.findIndex(accepts);
    if (index === -1) return undefined;
    const endpoint = due.splice(index, 1)[0]!;
    const trial = this.#trials.get(endpoint)!;
    trial.sent = true;
    this.#scheduleTrial(endpoint, trial);
    return endpoint;
  }

  record(endpoint: LiveEndpoint, failed: boolean): void {
    if (!failed) {
      endpoint.consecutiveFailures = 0;
      if (endpoint.ejected && this.#trials.get(endpoint)?.sent === true) this.#readmit(endpoint, true);
      return;
    }
    endpoint.consecutiveFailures++;
    const policy = this.#policy;
    if (policy === false || endpoint.ejected || endpoint.draining) return;
    if (endpoint.consecutiveFailures < policy.consecutiveFailures) return;
    if (!this.#underCap(policy)) return;
    this.#eject(endpoint, policy, `${endpoint.consecutiveFailures} consecutive failures`);
  }

  /** Cancels re-admission and trial timers (the set is closing or the endpoint left). */
  forget(endpoint: LiveEndpoint): void {
    endpoint.readmitTimer?.cancel();
    endpoint.readmitTimer = undefined;
    const trial = this.#trials.get(endpoint);
    if (trial === undefined) return;
    trial.timer?.cancel();
    this.#trials.delete(endpoint);
    const index = this.#due.indexOf(endpoint);
    if (index !== -1) this.#due.splice(index, 1);
  }

  #underCap(policy: OutlierPolicy): boolean {
    const members = this.#host.members();
    let ejected = 1;
    for (const member of members) if (member.ejected) ejected++;
    return ejected * 100 <= policy.maxEjectedPercent * members.length;
  }

  #eject(endpoint: LiveEndpoint, policy: OutlierPolicy, reason: string): void {
    const { clock, events, service } = this.#host;
    const now = clock.now();
    // A long healthy stretch since the last re-admission forgives earlier ejections.
    if (endpoint.ejections > 0 && now - endpoint.readmittedAt > policy.maxEjectFor) endpoint.ejections = 0;
    endpoint.ejections++;
    const growth = 2 ** (endpoint.ejections - 1);
    const duration = Math.min(policy.ejectFor * growth, Math.max(policy.ejectFor, policy.maxEjectFor));
    endpoint.ejectedUntil = now + duration;
    endpoint.ejectReason = reason;
    endpoint.readmitTimer = clock.setTimer(() => this.#readmit(endpoint, true), duration);
    if (policy.probeInterval !== false && policy.probeInterval * growth < duration) {
      const trial: TrialSchedule = { interval: policy.probeInterval * growth, timer: undefined, sent: false };
      this.#trials.set(endpoint, trial);
      this.#scheduleTrial(endpoint, trial);
    }
    events.emitLazy('eject', () => ({ service, endpoint: endpoint.address.id, until: endpoint.ejectedUntil, reason }));
    this.#host.healthChanged();
  }

  #scheduleTrial(endpoint: LiveEndpoint, trial: TrialSchedule): void {
    trial.timer = this.#host.clock.setTimer(() => {
      trial.timer = undefined;
      if (this.#trials.get(endpoint) !== trial) return;
      // One trial at a time: a call still in flight there (an earlier trial) is waited for.
      if (endpoint.inFlight > 0) this.#scheduleTrial(endpoint, trial);
      else this.#due.push(endpoint);
    }, trial.interval);
  }

  #readmit(endpoint: LiveEndpoint, rebuild: boolean): void {
    this.forget(endpoint);
    endpoint.ejectedUntil = 0;
    endpoint.ejectReason = undefined;
    endpoint.consecutiveFailures = 0;
    endpoint.readmittedAt = this.#host.clock.now();
    const { events, service } = this.#host;
    events.emitLazy('readmit', () => ({ service, endpoint: endpoint.address.id }));
    if (rebuild) this.#host.healthChanged();
  }
}
