/**
 * A call's attempt for tests that drive a layer, the balancer or the transport directly: the
 * logical call (service, start, deadline, signal) and the attempt's own fields (number, hedge
 * flag, endpoint to avoid) given by name, everything else as a fresh attempt has it.
 */
import { Attempt } from '../../src/core/attempt.ts';
import { newCall } from '../../src/core/call-context.ts';
import type { Endpoint } from '../../src/core/endpoint.ts';

export interface AttemptShape {
  readonly service?: string;
  readonly startedAt?: number;
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  readonly number?: number;
  readonly hedge?: boolean;
  readonly avoid?: Endpoint;
}

export function attemptFor(shape: AttemptShape = {}): Attempt {
  const call = newCall(shape.service ?? 'api', shape.startedAt ?? 0, shape.deadline ?? Number.POSITIVE_INFINITY, shape.signal);
  return new Attempt(call, shape.number ?? 1, shape.hedge ?? false, shape.avoid, call.signal);
}
