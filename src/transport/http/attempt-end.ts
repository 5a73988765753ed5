/**
 * How an attempt on the HTTP transport ends: its outcome by the HTTP classifier, its observer
 * (the balancer) told once, synchronously. Shared by the pre-dispatch failures (transport.ts)
 * and the handler (attempt-handler.ts).
 */
import type { Attempt } from '../../core/attempt.ts';
import type { MeshResponse } from '../../core/service.ts';
import { classifyHttp } from './classifier.ts';

/**
 * Ends a failed attempt: releases its signal's timer and link and tells its observer.
 * Returns the error, to reject with.
 */
export function failed(attempt: Attempt, error: unknown): unknown {
  attempt.dispose();
  tell(attempt, undefined, error);
  return error;
}

/** Records how the attempt ended and tells its observer. Whatever the observer does, the call settles. */
export function tell(attempt: Attempt, response: MeshResponse | undefined, error: unknown): void {
  attempt.outcome = classifyHttp(response?.statusCode, error);
  try {
    attempt.observer?.attemptEnded(attempt, error);
  } catch (bug) {
    queueMicrotask(() => {
      throw bug;
    });
  }
}
