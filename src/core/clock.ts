/**
 * The one source of time for policy code. Deadlines, backoff, EWMA decay, budgets and
 * ejection all read `clock.now()` (monotonic milliseconds) and schedule through it, so tests
 * can drive time by hand (`ManualClock`) where time is logic, and real timers where it is
 * behaviour.
 *
 * Timers come in two kinds, because they answer to two different owners (issue 15). A call
 * in flight that waits on a timer (backoff, `Retry-After`, an injected delay, a hedge, a
 * queued slot, a time limit) must keep the process alive: a one-shot script (a CLI, a cron
 * job, a test file) has no server holding Node's event loop open, and with an unref'd timer
 * Node exits mid-call with code 13 and the call's result is never seen. Background work
 * (load decay, ejection expiry, DNS re-resolution, file polling, watches) must never keep it
 * alive: an idle mesh lets a script exit, and `close()` is what releases it cleanly.
 */

export interface TimerHandle {
  /** Cancels the timer; a no-op once it fired. */
  cancel(): void;
  /**
   * Whether the pending timer keeps the process alive. For a timer shared by calls (the
   * ExpiryQueue's): on while a call waits on it, off while it is armed for nobody.
   */
  keepAlive(on: boolean): void;
}

export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  /** Background work: calls `fn` after `ms`; the timer never keeps the process alive. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** A wait a call in flight depends on: calls `fn` after `ms`, keeping the process alive until then (or until cancelled). */
  setCallTimer(fn: () => void, ms: number): TimerHandle;
  /**
   * A call's wait, on a call timer (it keeps the process alive): resolves after `ms`, or
   * rejects with the signal's reason when it aborts first.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

class SystemTimer implements TimerHandle {
  readonly #timeout: NodeJS.Timeout;

  constructor(timeout: NodeJS.Timeout) {
    this.#timeout = timeout;
  }

  cancel(): void {
    clearTimeout(this.#timeout);
  }

  keepAlive(on: boolean): void {
    if (on) this.#timeout.ref();
    else this.#timeout.unref();
  }
}

class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    return new SystemTimer(setTimeout(fn, ms).unref());
  }

  setCallTimer(fn: () => void, ms: number): TimerHandle {
    return new SystemTimer(setTimeout(fn, ms));
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}

export const systemClock: Clock = new SystemClock();

function sleepOn(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setCallTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

class ManualTimer implements TimerHandle {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled = false;
  keepingAlive: boolean;

  constructor(at: number, seq: number, fn: () => void, keepAlive: boolean) {
    this.at = at;
    this.seq = seq;
    this.fn = fn;
    this.keepingAlive = keepAlive;
  }

  cancel(): void {
    this.cancelled = true;
  }

  keepAlive(on: boolean): void {
    this.keepingAlive = on;
  }
}

/** A clock that moves only when a test calls `advance`. */
export class ManualClock implements Clock {
  #now: number;
  #timers: ManualTimer[] = [];
  #seq = 0;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    return this.#schedule(fn, ms, false);
  }

  setCallTimer(fn: () => void, ms: number): TimerHandle {
    return this.#schedule(fn, ms, true);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Pending timers that would keep a real process alive (what a one-shot script waits on). */
  get keepingAlive(): number {
    return this.#timers.filter((t) => !t.cancelled && t.keepingAlive).length;
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers
        .filter((t) => !t.cancelled && t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#now = due.at;
      due.cancelled = true;
      due.fn();
    }
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    this.#now = target;
  }

  #schedule(fn: () => void, ms: number, keepAlive: boolean): ManualTimer {
    const timer = new ManualTimer(this.#now + Math.max(0, ms), this.#seq++, fn, keepAlive);
    this.#timers.push(timer);
    return timer;
  }
}
