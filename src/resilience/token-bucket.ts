/**
 * An in-memory token bucket, synchronous and allocation-free per call: `rate` tokens a
 * second refill it, it holds at most `capacity`, and a call takes one token or is refused.
 * It starts full, so a quiet service may send a burst of `capacity` calls at once.
 *
 * Why not rate-limiter-flexible's RateLimiterMemory for local limits: it answers with a
 * Promise (one await and two allocations per call, measured in bench/rate-limit.ts) and its
 * points/duration are a fixed window, not a bucket. Global limits still use it (Redis +
 * insurance), see rate-limit-global.ts.
 */
import type { Clock } from '../core/clock.ts';

export class TokenBucket {
  readonly #clock: Clock;
  readonly #perMs: number;
  readonly #capacity: number;
  #tokens: number;
  #refilledAt: number;

  constructor(clock: Clock, ratePerSecond: number, capacity: number) {
    this.#clock = clock;
    this.#perMs = ratePerSecond / 1000;
    this.#capacity = Math.max(1, capacity);
    this.#tokens = this.#capacity;
    this.#refilledAt = clock.now();
  }

  /** Takes one token when there is one; never waits. */
  tryTake(): boolean {
    const now = this.#clock.now();
    const refilled = this.#tokens + (now - this.#refilledAt) * this.#perMs;
    this.#tokens = Math.min(refilled, this.#capacity);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token, for the caller's error message. */
  msUntilToken(): number {
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#perMs);
  }

  /** Whole tokens available now (for state snapshots; does not refill). */
  get tokens(): number {
    return Math.floor(this.#tokens);
  }
}
