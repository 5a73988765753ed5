/**
 * Inbound admission: the limits a service puts on the requests it accepts, so overload is
 * refused at the door (cheaply, with a hint of when to come back) instead of queueing until
 * every caller times out. A rate (meshlet's token bucket, the one outgoing rate limits use)
 * answers 429; a concurrency limit (requests being served at once) answers 503. Both say
 * `Retry-After` in whole seconds, as RFC 9110 wants; meshlet's own retry layer honours it.
 */
import type { Clock } from '../core/clock.ts';
import { TokenBucket } from '../resilience/token-bucket.ts';

export interface InboundLimits {
  /** Requests a second this service accepts, with `burst` at once (default: one second's worth). */
  rate?: { perSecond: number; burst?: number };
  /** Requests served at once; one more is refused with 503. */
  concurrency?: number;
}

/** A request answered before its handler runs. */
export interface Refusal {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function refusal(status: number, code: string, message: string, retryAfterSeconds?: number, extraHeaders?: Record<string, string>): Refusal {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...extraHeaders };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return { status, headers, body: JSON.stringify({ error: code, message }) };
}

const BUSY = refusal(503, 'MESH_CONCURRENCY_LIMIT', 'this service is serving as many requests as it accepts at once; retry after the time in Retry-After', 1);

/** The limits alone; the gate (inbound-http.ts) counts the requests being served, limits or not, for its drain. */
export class InboundAdmission {
  readonly #bucket: TokenBucket | undefined;
  readonly #rate: number;
  readonly #concurrency: number;

  constructor(limits: InboundLimits, clock: Clock) {
    this.#rate = limits.rate?.perSecond ?? 0;
    this.#bucket = limits.rate === undefined ? undefined : new TokenBucket(clock, limits.rate.perSecond, limits.rate.burst ?? limits.rate.perSecond);
    this.#concurrency = limits.concurrency ?? Number.POSITIVE_INFINITY;
  }

  /** Undefined when one more request may be served beside the `serving` ones, else why not. */
  admit(serving: number): Refusal | undefined {
    if (serving >= this.#concurrency) return BUSY;
    if (this.#bucket !== undefined && !this.#bucket.tryTake()) {
      const seconds = Math.max(1, Math.ceil(this.#bucket.msUntilToken() / 1000));
      return refusal(429, 'MESH_RATE_LIMITED', `this service accepts ${this.#rate} requests a second; retry after ${seconds} s`, seconds);
    }
    return undefined;
  }
}
