/**
 * `Retry-After` (RFC 9110 §10.2.3): a server that says "not before N seconds" knows more
 * about its own recovery than our backoff does, so a retry honours it — within bounds the
 * caller set (`retry.maxRetryAfter`, and the call's deadline; see retry.ts).
 */

/** Wall-clock time for HTTP-dates; the policy Clock is monotonic and cannot read a date. */
export type WallClock = () => number;

// NOTE: the one wall-clock read in retry policy: an HTTP-date is a point in civil time, and
// only differences from "now" in that same time base mean anything.
const systemWallClock: WallClock = () => Date.now();

/**
 * The delay a `Retry-After` header asks for, in ms; undefined when the header is absent or
 * unparseable (then ordinary backoff applies). A date in the past means "now" (0).
 */
export function retryAfterDelay(
  header: string | string[] | undefined,
  wallNow: WallClock = systemWallClock,
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - wallNow());
}
