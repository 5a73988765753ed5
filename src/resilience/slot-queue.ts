/**
 * The FIFO a call waits in for a concurrency slot. Waiting is bounded three ways, the
 * tightest wins: the queue's own `timeout`, the call's deadline (then MESH_TIMEOUT: the
 * caller's budget ran out, not the limiter's patience) and the caller's abort signal.
 *
 * The waiting call's timer is a call timer (it keeps the process alive): the slot comes
 * free when another call completes, and that call's socket holds the process open only
 * while it lasts; a one-shot script must still see this call time out rather than exit.
 */
import type { Call } from '../core/call-context.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { callerAborted, type MeshError } from '../core/errors.ts';
import { deadlineWhileQueued } from '../core/mesh-errors.ts';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class SlotQueue {
  /** Rejection reasons the concurrency layer turns into its own MeshError. */
  static readonly TIMED_OUT: unique symbol = Symbol('queue timed out');
  static readonly QUEUE_FULL: unique symbol = Symbol('queue full');

  readonly #clock: Clock;
  readonly #capacity: number;
  readonly #timeout: number;
  readonly #service: string;
  readonly #waiters: Waiter[] = [];

  constructor(clock: Clock, capacity: number, timeout: number, service: string) {
    this.#clock = clock;
    this.#capacity = capacity;
    this.#timeout = timeout;
    this.#service = service;
  }

  get length(): number {
    return this.#waiters.length;
  }

  get full(): boolean {
    return this.#waiters.length >= this.#capacity;
  }

  /** Resolves when a slot is handed over; rejects on timeout, deadline or abort. */
  wait(call: Call): Promise<void> {
    const service = this.#service;
    const signal = call.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal, service));
    const untilDeadline = call.deadline - this.#clock.now();
    if (untilDeadline <= 0) return Promise.reject(deadlineError(service));
    if (this.full) return Promise.reject(SlotQueue.QUEUE_FULL);
    const deadlineFirst = untilDeadline < this.#timeout;
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const settle = (): void => {
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
      };
      const onAbort = (): void => {
        settle();
        reject(abortError(signal!, service));
      };
      const waiter: Waiter = {
        resolve: () => {
          settle();
          resolve();
        },
        reject: (error: unknown) => {
          settle();
          reject(error);
        },
      };
      this.#waiters.push(waiter);
      timer = this.#clock.setCallTimer(
        () => waiter.reject(deadlineFirst ? deadlineError(service) : SlotQueue.TIMED_OUT),
        deadlineFirst ? untilDeadline : this.#timeout,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Gives a freed slot to the oldest waiter; false when nobody waits. */
  handOver(): boolean {
    const next = this.#waiters[0];
    if (next === undefined) return false;
    next.resolve();
    return true;
  }

  rejectAll(error: unknown): void {
    for (const waiter of [...this.#waiters]) waiter.reject(error);
  }
}

function abortError(signal: AbortSignal, service: string): unknown {
  return callerAborted(service, 'while waiting for a concurrency slot', signal.reason);
}

function deadlineError(service: string): MeshError {
  return deadlineWhileQueued(service);
}
