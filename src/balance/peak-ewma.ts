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
 *
 * Cold start, and answers out of line. A new endpoint's first answer pays for connection
 * set-up; a fresh process pays for module loading, the HTTP parser's compilation, JIT warm-up
 * and early GC on its first hundred or so calls (on loopback 5 to 50 times a warm answer),
 * and a loaded machine stalls the caller's event loop now and then. None of it is the
 * endpoint's latency, yet taken as a peak and remembered for the full `decay` it starved an
 * equal endpoint for tens of seconds: three loopback backends took 1/192/107 of 300
 * sequential calls. Four rules; without any one of them some runs still starve a backend:
 * - No estimate before two answers (Finagle's PeakEwma has none before one): such an
 *   endpoint costs nothing while idle, so it is tried, and more than any estimated one while
 *   a call is in flight to it, so it is never piled onto. New endpoints get one call at a time.
 * - A first answer is not trusted alone: the estimate starts at the smaller of the first two,
 *   which keeps the first connection's set-up out of it (linkerd2-proxy keeps connection
 *   establishment out of its RTT estimate).
 * - One answer at most doubles the estimate. An endpoint that turns slow costs twice as much
 *   at once, so it is avoided, and its estimate reaches the new latency within a few answers;
 *   a single stall cannot make it cost fifty times its peers.
 * - A young estimate has a short memory: it remembers at most a tenth of the time since its
 *   endpoint first answered, until that reaches `decay` (after 100 s with the default 10 s).
 *   An estimate made of a handful of warm-up answers has no claim to ten seconds of trust; a
 *   slow endpoint is still avoided, only re-probed a little more often while young.
 */
import type { LiveEndpoint } from './live-endpoint.ts';

/**
 * What state shows for an endpoint that has not answered twice while no endpoint has (its
 * load ignores it until then; linkerd2-proxy's default RTT is 30 ms).
 */
export const DEFAULT_PRIOR_MS = 10;

/** Share of an endpoint's answering life its estimate may remember, until that reaches `decay`. */
const YOUTH_MEMORY_SHARE = 0.1;

/** Memory is never shortened below this (answers a few microseconds apart). */
const MIN_MEMORY_MS = 1;

/** How far one answer can raise the estimate, as a multiple of the estimate. */
const MAX_RISE_PER_ANSWER = 2;

/**
 * Load of an endpoint with no estimate and a call in flight: above any estimated load, and
 * rising with its in-flight count (Finagle's `Penalty + pending`), so the less busy of two
 * such endpoints is chosen.
 */
const UNPROVEN_BUSY_LOAD = 1e12;

/** Records one observed latency. */
export function observeLatency(endpoint: LiveEndpoint, latencyMs: number, now: number, decayMs: number): void {
  if (!endpoint.observed) {
    if (endpoint.firstAnswerAt < 0) {
      endpoint.firstAnswerMs = latencyMs;
      endpoint.firstAnswerAt = now;
      return;
    }
    endpoint.observed = true;
    endpoint.ewmaMs = Math.min(endpoint.firstAnswerMs, latencyMs);
    endpoint.ewmaAt = now;
    return;
  }
  const elapsed = now - endpoint.ewmaAt;
  const keep = elapsed > 0 ? Math.exp(-elapsed / memoryOf(endpoint, decayMs)) : 1;
  const decayed = endpoint.ewmaMs * keep;
  const answer = Math.min(latencyMs, endpoint.ewmaMs * MAX_RISE_PER_ANSWER);
  // Peak: an answer slower than the estimate as it stands now (decayed) replaces it.
  endpoint.ewmaMs = answer > decayed ? answer : decayed + answer * (1 - keep);
  endpoint.ewmaAt = now;
}

/**
 * The current estimate, decayed toward zero for the time nobody observed this endpoint.
 * NOTE: not while a call is in flight to it: an answer still missing is no sign of speed,
 * and a young estimate (short memory) would otherwise invite more calls to a slow endpoint
 * before its first slow answer is back.
 */
export function currentEstimate(endpoint: LiveEndpoint, now: number, decayMs: number): number {
  const elapsed = now - endpoint.ewmaAt;
  if (elapsed <= 0 || endpoint.inFlight > 0) return endpoint.ewmaMs;
  return endpoint.ewmaMs * Math.exp(-elapsed / memoryOf(endpoint, decayMs));
}

export function peakEwmaLoad(endpoint: LiveEndpoint, now: number, decayMs: number): number {
  if (!endpoint.observed) return endpoint.inFlight === 0 ? 0 : UNPROVEN_BUSY_LOAD + endpoint.inFlight;
  return currentEstimate(endpoint, now, decayMs) * (endpoint.inFlight + 1);
}

/** A new endpoint's prior: the median estimate of the others (shown in state until it has answered twice). */
export function priorFor(others: Iterable<LiveEndpoint>): number {
  const estimates: number[] = [];
  for (const endpoint of others) if (endpoint.observed) estimates.push(endpoint.ewmaMs);
  if (estimates.length === 0) return DEFAULT_PRIOR_MS;
  estimates.sort((a, b) => a - b);
  return estimates[estimates.length >> 1]!;
}

/** How long the estimate remembers: `decay`, or less while it is young. */
function memoryOf(endpoint: LiveEndpoint, decayMs: number): number {
  if (!endpoint.observed) return decayMs;
  const age = endpoint.ewmaAt - endpoint.firstAnswerAt;
  return Math.min(decayMs, Math.max(MIN_MEMORY_MS, age * YOUTH_MEMORY_SHARE));
}
