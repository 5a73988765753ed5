/**
 * How many calls to one service may be in flight: the strategy behind the concurrency layer
 * (concurrency-limit.ts), which only admits, refuses and queues. Fixed: `max` slots and an
 * optional FIFO queue. Adaptive: the limit follows measured latency (adaptive-limit.ts), and
 * nothing queues, since waiting is the latency the limit is trying to avoid. A new strategy is
 * a new implementation of `Limiter`, not an edit of the layer.
 */
import type { Clock } from '../core/clock.ts';
import { outcomeOfError } from '../core/outcome.ts';
import { AdaptiveLimit } from './adaptive-limit.ts';
import type { SlotQueue } from './slot-queue.ts';

export interface Limiter {
  /** The current limit. */
  readonly limit: number;
  readonly inFlight: number;
  /** Takes a slot now; false when none is free. */
  tryAcquire(): boolean;
  /** Hears how the call that took a slot ends, and frees the slot then. */
  track(pending: Promise<unknown>): void;
  /** Frees a slot whose call never started (its inner service threw at once). */
  cancel(): void;
  /** Where a call may wait for a slot; undefined when this limiter has no queue. */
  readonly queue: SlotQueue | undefined;
  /** Plain JSON beyond limit and in-flight, for state(). */
  details(): Record<string, unknown>;
}

export class FixedLimiter implements Limiter {
  readonly limit: number;
  readonly queue: SlotQueue | undefined;
  #inFlight = 0;

  constructor(max: number, queue: SlotQueue | undefined) {
    this.limit = max;
    this.queue = queue;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  tryAcquire(): boolean {
    if (this.#inFlight >= this.limit) return false;
    this.#inFlight++;
    return true;
  }

  track(pending: Promise<unknown>): void {
    pending.then(this.#release, this.#release);
  }

  cancel(): void {
    this.#release();
  }

  /** Frees a slot, or hands it straight to the oldest waiter (which then holds it: inFlight stays). */
  readonly #release = (): void => {
    if (this.queue?.handOver() !== true) this.#inFlight--;
  };

  details(): Record<string, unknown> {
    return {};
  }
}

export class AdaptiveLimiter implements Limiter {
  readonly queue = undefined;
  readonly #limit: AdaptiveLimit;
  readonly #clock: Clock;
  #inFlight = 0;

  constructor(options: { initial: number; min: number; max: number }, clock: Clock) {
    this.#limit = new AdaptiveLimit(options);
    this.#clock = clock;
  }

  get limit(): number {
    return this.#limit.limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  tryAcquire(): boolean {
    if (this.#inFlight >= this.#limit.limit) return false;
    this.#inFlight++;
    return true;
  }

  track(pending: Promise<unknown>): void {
    const startedWith = this.#inFlight;
    const startedAt = this.#clock.now();
    const done = (): void => {
      this.#inFlight--;
      this.#limit.onSample(this.#clock.now() - startedAt, startedWith);
    };
    // A caller's abort or a lost hedge ends the call early: its short latency says nothing about the dependency.
    const failed = (error: unknown): void => {
      if (outcomeOfError(error).kind === 'not-the-dependency') this.#inFlight--;
      else done();
    };
    pending.then(done, failed);
  }

  cancel(): void {
    this.#inFlight--;
  }

  details(): Record<string, unknown> {
    return { gradient: this.#limit.toJSON() };
  }
}
