/**
 * One signal for two cancellations either of which may be absent: the one there is, or both
 * linked (AbortSignal.any holds its sources weakly, so nothing stays registered on a
 * long-lived one). The same signal twice is itself, with no link made.
 */
export function eitherSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined || a === b) return b;
  if (b === undefined) return a;
  return AbortSignal.any([a, b]);
}
