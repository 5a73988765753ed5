/**
 * An await in the call path that the call's deadline and its abort signal cut short. A
 * layer waiting on something outside the call (a Redis round trip, a module load) must not
 * hold the caller past either: a `timeout: '50ms'` call ends at 50 ms with MESH_TIMEOUT,
 * and an abort settles it at once with MESH_ABORTED, whatever the awaited work does.
 *
 * NOTE: the awaited work (what `start` returns) is not cancelled, only no longer waited for:
 * when it settles late its result is dropped. This helper attaches both handlers to it, so a late rejection is
 * never unhandled; the work itself must be safe to finish unobserved.
 */
import type { Call } from '../core/call-context.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { isMeshError } from '../core/errors.ts';
import { abortedError, timeoutError } from './deadline.ts';

export function waitWithinCall<T>(call: Call, clock: Clock, start: () => Promise<T>): Promise<T> {
  // A call already aborted or late starts nothing it would only drop.
  const signal = call.signal;
  if (signal?.aborted) return Promise.reject(abortReason(call, signal));
  const untilDeadline = call.deadline - clock.now();
  if (untilDeadline <= 0) return Promise.reject(timeoutError(call, 0));
  const pending = start();
  // An unbounded call nobody can cancel: nothing to race, no timer, no listener.
  if (untilDeadline === Number.POSITIVE_INFINITY && signal === undefined) return pending;
  return new Promise<T>((resolve, reject) => {
    let timer: TimerHandle | undefined;
    const release = (): void => {
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      release();
      reject(abortReason(call, signal!));
    };
    if (untilDeadline !== Number.POSITIVE_INFINITY) {
      timer = clock.setCallTimer(() => {
        release();
        reject(timeoutError(call, 0));
      }, untilDeadline);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        release();
        resolve(value);
      },
      (error: unknown) => {
        release();
        reject(error);
      },
    );
  });
}

/** The deadline layer aborts a linked signal with a MeshError already; anything else is wrapped. */
function abortReason(call: Call, signal: AbortSignal): unknown {
  return isMeshError(signal.reason) ? signal.reason : abortedError(call, signal.reason);
}
