/**
 * Outlier ejection (Envoy's consecutive-5xx detection, Finagle's failure accrual): an
 * endpoint that fails `consecutiveFailures` times in a row is taken out of rotation for
 * `ejectFor`, doubled on each repeat up to `maxEjectFor`, then re-admitted on a clock timer.
 * Why a cap on ejections: when many endpoints fail at once the cause is usually the caller
 * or a shared dependency, and ejecting them all would turn a partial outage into a total one;
 * `maxEjectedPercent` keeps enough in rotation. "Failure" is the shared classifier's verdict.
 */
import type { Clock } from '../core/clock.ts';
import type { MeshEventEmitter } from '../core/events.ts';
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

export class OutlierDetector {
  readonly #host: OutlierHost;
  #policy: OutlierPolicy | false;

  constructor(host: OutlierHost, policy: OutlierPolicy | false) {
    this.#host = host;
    this.#policy = policy;
  }

  /** Off: every ejection ends now (the caller rebuilds the picker). */
  reconfigure(policy: OutlierPolicy | false): void {
    this.#policy = policy;
    if (policy === false) for (const endpoint of this.#host.members()) if (endpoint.ejected) this.#readmit(endpoint, false);
  }

  record(endpoint: LiveEndpoint, failed: boolean): void {
    if (!failed) {
      endpoint.consecutiveFailures = 0;
      return;
    }
    endpoint.consecutiveFailures++;
    const policy = this.#policy;
    if (policy === false || endpoint.ejected || endpoint.draining) return;
    if (endpoint.consecutiveFailures < policy.consecutiveFailures) return;
    if (!this.#underCap(policy)) return;
    this.#eject(endpoint, policy, `${endpoint.consecutiveFailures} consecutive failures`);
  }

  /** Cancels re-admission timers (the set is closing or the endpoint left). */
  forget(endpoint: LiveEndpoint): void {
    endpoint.readmitTimer?.cancel();
    endpoint.readmitTimer = undefined;
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
    const duration = Math.min(policy.ejectFor * 2 ** (endpoint.ejections - 1), Math.max(policy.ejectFor, policy.maxEjectFor));
    endpoint.ejectedUntil = now + duration;
    endpoint.ejectReason = reason;
    endpoint.readmitTimer = clock.setTimer(() => this.#readmit(endpoint, true), duration);
    events.emitLazy('eject', () => ({ service, endpoint: endpoint.address.id, until: endpoint.ejectedUntil, reason }));
    this.#host.healthChanged();
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
