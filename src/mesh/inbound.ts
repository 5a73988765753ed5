/**
 * `runWithInbound(options, fn)`: runs `fn` under an inbound request's deadline and
 * cancellation, so every call made inside is clipped to what the inbound request has left
 * (the framework adapters call it for you).
 *
 * The deadline comes in one of two unambiguous forms, checked and converted once, at entry,
 * to the monotonic clock the deadline layer reads (issue 9, defect 10: a `Date.now()`
 * deadline used to be read as a monotonic time decades away, and NaN or a string as no
 * deadline at all — each ran the call unbounded):
 * - `timeout`: the time the inbound request has left, a duration (`250`, `'250ms'`), what
 *   an adapter reads from `x-meshlet-timeout-ms`. Zero or a negative number: already passed.
 * - `deadline`: an absolute wall-clock time, a `Date` or epoch milliseconds (`Date.now() +
 *   250`), as grpc-js takes it. It must lie within 24 h of now either way: anything further
 *   is a value on another clock (`performance.now()`, seconds), refused rather than guessed.
 * A deadline that has passed is valid: calls made inside fail fast with MESH_TIMEOUT and are
 * not sent. Anything else is refused, synchronously, with MESH_BAD_REQUEST.
 *
 * Nested, the inner context is clipped to the outer one: a handler cannot give its calls
 * more time than the request it serves has left, and both cancellations apply.
 */
import { currentInbound, enterInbound, type InboundContext } from '../core/call-context.ts';
import { systemClock } from '../core/clock.ts';
import type { MeshError } from '../core/errors.ts';
import { invalidArgument } from '../core/mesh-errors.ts';
import { parseDuration } from '../config/duration.ts';
import { MAX_DURATION_MS } from '../config/limits.ts';
import { describe, unknownKeyMessage } from './call-argument-error.ts';

export interface InboundOptions {
  /** The time the inbound request has left: milliseconds or a duration string (`'250ms'`); ≤ 0 means passed. */
  timeout?: number | string;
  /** When the inbound request must be answered, on the wall clock: a `Date` or epoch milliseconds (`Date.now() + 250`). */
  deadline?: Date | number;
  /** Aborts when the inbound request is cancelled (its client went away). */
  signal?: AbortSignal;
}

const OPTION_NAMES: readonly (keyof InboundOptions)[] = ['timeout', 'deadline', 'signal'];

export function runWithInbound<T>(options: InboundOptions, fn: () => T): T {
  const context = inboundContext(options);
  if (typeof fn !== 'function') throw refused(`the second argument must be the function to run, got ${describe(fn)}`);
  return enterInbound(context, fn);
}

function inboundContext(options: InboundOptions): InboundContext {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw refused(`options must be an object like { timeout: '250ms', signal }, got ${describe(options)}`);
  }
  for (const key in options) {
    if (!OPTION_NAMES.includes(key as keyof InboundOptions)) throw refused(unknownKeyMessage('option', key, OPTION_NAMES));
  }
  const { timeout, deadline, signal } = options;
  if (timeout !== undefined && deadline !== undefined) {
    throw refused('give `timeout` (the time left) or `deadline` (a wall-clock time), not both');
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw refused(`signal must be an AbortSignal, got ${describe(signal)}`);
  const remaining =
    timeout !== undefined ? remainingFromTimeout(timeout) : deadline !== undefined ? remainingFromDeadline(deadline) : Number.POSITIVE_INFINITY;
  const own: InboundContext = { deadline: systemClock.now() + remaining, signal };
  const outer = currentInbound();
  return outer === undefined ? own : clipped(own, outer);
}

function remainingFromTimeout(timeout: unknown): number {
  // A remaining time computed by subtraction goes negative once it has passed: that is
  // "no time left", not an error.
  if (typeof timeout === 'number' && Number.isFinite(timeout) && timeout < 0) return 0;
  const parsed = parseDuration(timeout);
  if (parsed.ok) return parsed.ms;
  throw refused(`timeout is the time the inbound request has left: ${parsed.message}; leave it out for no deadline`);
}

function remainingFromDeadline(deadline: unknown): number {
  const at = deadline instanceof Date ? deadline.getTime() : typeof deadline === 'number' ? deadline : undefined;
  if (at === undefined || !Number.isFinite(at)) {
    throw refused(
      `deadline must be a valid Date or wall-clock epoch milliseconds (Date.now() + ms), got ${deadline instanceof Date ? 'an invalid Date' : describe(deadline)}`,
    );
  }
  // NOTE: the one read of the wall clock: it converts the caller's wall-clock value to the
  // time left; policy code sees only the monotonic clock.
  const remaining = at - Date.now();
  if (Math.abs(remaining) > MAX_DURATION_MS) {
    const hours = Math.round(Math.abs(remaining) / 3_600_000);
    throw refused(
      `deadline ${at} is ${hours} h ${remaining < 0 ? 'ago' : 'from now'}, so it is not a wall-clock time in epoch milliseconds ` +
        '(a performance.now() value, or seconds?); pass Date.now() + ms or a Date, or the time left as `timeout`',
    );
  }
  return remaining;
}

function clipped(own: InboundContext, outer: InboundContext): InboundContext {
  const deadline = Math.min(own.deadline, outer.deadline);
  if (outer.signal === undefined || own.signal === undefined) return { deadline, signal: own.signal ?? outer.signal };
  return { deadline, signal: AbortSignal.any([outer.signal, own.signal]) };
}

function refused(message: string): MeshError {
  return invalidArgument('runWithInbound', message);
}
