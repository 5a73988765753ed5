/**
 * Peak-sensitive EWMA of latency, the load metric of Finagle's and linkerd2-proxy's
 * default balancer. Why peak-sensitive: an endpoint that turns slow must be avoided at once,
 * not after a smoothed average catches up, while one that recovers is trusted again only
 * gradually. Why time-based decay (not per-sample): the estimate forgets at the same rate
 * whether an endpoint gets 10 or 10,000 calls a second, and an endpoint that nobody picks
 * decays toward zero, so it is probed again instead of being shunned forever.
 *
 * Load = estimate × (inFlight + 1): latency alone ignores queueing, in-flight alone ignores
 * a slow server.
 */
import type { LiveEndpoint } from './live-endpoint.ts';

/** Estimate for endpoints when no endpoint has answered yet (linkerd2-proxy uses a similar default). */
export const DEFAULT_PRIOR_MS = 10;

/** Records one observed latency. */
export function observeLatency(endpoint: LiveEndpoint, latencyMs: number, now: number, decayMs: number): void {
  if (!endpoint.observed) {
    // The prior was a guess; the first real answer replaces it rather than blending with it.
    endpoint.observed = true;
    endpoint.ewmaMs = latencyMs;
  } else if (latencyMs > endpoint.ewmaMs) {
    endpoint.ewmaMs = latencyMs;
  } else {
    const elapsed = now - endpoint.ewmaAt;
    const keep = elapsed > 0 ? Math.exp(-elapsed / decayMs) : 1;
    endpoint.ewmaMs = endpoint.ewmaMs * keep + latencyMs * (1 - keep);
  }
  endpoint.ewmaAt = now;
}

/** The current estimate, decayed toward zero for the time nobody observed this endpoint. */
export function currentEstimate(endpoint: LiveEndpoint, now: number, decayMs: number): number {
  const elapsed = now - endpoint.ewmaAt;
  return elapsed > 0 ? endpoint.ewmaMs * Math.exp(-elapsed / decayMs) : endpoint.ewmaMs;
}

export function peakEwmaLoad(endpoint: LiveEndpoint, now: number, decayMs: number): number {
  return currentEstimate(endpoint, now, decayMs) * (endpoint.inFlight + 1);
}

/** A new endpoint's prior: the median estimate of the others, so it is neither flooded nor starved. */
export function priorFor(others: Iterable<LiveEndpoint>): number {
  const estimates: number[] = [];
  for (const endpoint of others) if (endpoint.observed) estimates.push(endpoint.ewmaMs);
  if (estimates.length === 0) return DEFAULT_PRIOR_MS;
  estimates.sort((a, b) => a - b);
  return estimates[estimates.length >> 1]!;
}
