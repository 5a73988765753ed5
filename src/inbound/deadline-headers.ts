/**
 * The time an inbound request has left, as its caller sent it: `x-meshlet-timeout-ms`
 * (meshlet's own, relative milliseconds, immune to clock skew) or `grpc-timeout` (gRPC's
 * wire form, `<1-8 digits><H|M|S|m|u|n>`). Relative values are read, never wall-clock ones.
 *
 * NOTE: hostile or broken input is not a deadline: a value that is not exactly one of those
 * forms (a repeated header joined with ', ', a negative number, 20 digits) reads as absent,
 * so the service's default applies; it never throws and never gives the request more time
 * than the ceiling the service set. A well-formed value above a day (config's own bound on a
 * duration) reads as a day: 10 digits of ms or 99999999H would otherwise reach Node's timers,
 * which fire after 1 ms for anything past 2^31 ms, so the call's time limit re-armed every
 * millisecond with a TimeoutOverflowWarning each time.
 */
import { MAX_DURATION_MS } from '../config/limits.ts';
import { TIMEOUT_HEADER } from '../resilience/attempt.ts';

const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const GRPC_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/** Node's `IncomingMessage['headers']` shape, or any record of lower-cased names. */
export type InboundHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Milliseconds the caller gave the request, or undefined when it sent no readable deadline. */
export function timeLeftFromHeaders(headers: InboundHeaders): number | undefined {
  const meshlet = headers[TIMEOUT_HEADER];
  if (typeof meshlet === 'string') {
    const ms = digits(meshlet);
    if (ms !== undefined) return Math.min(ms, MAX_DURATION_MS);
  }
  const grpc = headers['grpc-timeout'];
  if (typeof grpc !== 'string') return undefined;
  const match = GRPC_TIMEOUT.exec(grpc);
  return match === null ? undefined : Math.min(Number(match[1]) * GRPC_UNIT_MS[match[2]!]!, MAX_DURATION_MS);
}

/**
 * The value of 1 to 10 ASCII digits, else undefined: what /^\d{1,10}$/ and Number() read, in one
 * pass (the header comes with every request a meshlet caller sends).
 */
function digits(text: string): number | undefined {
  const length = text.length;
  if (length === 0 || length > 10) return undefined;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}
