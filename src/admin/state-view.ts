/**
 * state.json: `mesh.state()` with, per service, the call statistics (call-stats.ts) and the
 * thresholds its state is judged against (a breaker's error rate and window, the rate and
 * concurrency limits, the retry budget's ratio), plus the recent events. One document, so the
 * dashboard draws from one request a second and a script can read exactly what the page shows.
 *
 * NOTE: redacted as a whole at the end, whatever the parts already did.
 */
import type { ServicePolicy } from '../config/policy.ts';
import { redactValue } from '../core/redact.ts';
import { type CallStats, WINDOW_SECONDS } from './call-stats.ts';
import type { EventLog } from './event-log.ts';

export interface AdminSource {
  state(): Record<string, unknown>;
  /** The resolved policy of every service in force. */
  policies(): readonly ServicePolicy[];
}

export function stateView(source: AdminSource, stats: CallStats, log: EventLog): Record<string, unknown> {
  const state = source.state();
  const policies = new Map(source.policies().map((policy) => [policy.name, policy]));
  const services: Record<string, unknown> = {};
  for (const [name, service] of Object.entries((state.services ?? {}) as Record<string, Record<string, unknown>>)) {
    const policy = policies.get(name);
    services[name] = { ...service, thresholds: policy === undefined ? null : thresholdsOf(policy), stats: stats.service(name) ?? null };
  }
  return redactValue({
    ...state,
    services,
    statsWindowSeconds: WINDOW_SECONDS,
    untrackedMessages: stats.untracked,
    events: log.events,
    generatedAt: new Date().toISOString(),
  });
}

/** What a service's live state is measured against; `false` where the policy is off. */
export function thresholdsOf(policy: ServicePolicy): Record<string, unknown> {
  return {
    timeoutMs: policy.timeout,
    perTryTimeoutMs: policy.perTryTimeout,
    breaker: policy.breaker,
    outlier: policy.outlier,
    retry: policy.retry === false ? false : { attempts: policy.retry.attempts, on: policy.retry.on, budget: policy.retry.budget },
    hedge: policy.hedge,
    rateLimit: policy.rateLimit === false ? false : { rps: policy.rateLimit.rps, burst: policy.rateLimit.burst, scope: policy.rateLimit.scope },
    concurrency: policy.concurrency,
  };
}
