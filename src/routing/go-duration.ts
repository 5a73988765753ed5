/**
 * Go durations as Consul's config entries carry them (`"99s"`, `"1m30s"`, `"1h0m0s"`: Go's
 * `Duration.String()` writes compound forms, which meshlet's own duration parser does not take).
 * Sub-millisecond units are read exactly and kept as fractions of a millisecond.
 */
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
const WHOLE = /^(?:\d+(?:\.\d*)?(?:h|ms|m|s|us|µs|ns))+$/;
const PART = /(\d+(?:\.\d*)?)(h|ms|m|s|us|µs|ns)/g;

/** Milliseconds, or undefined when `value` is not a non-negative Go duration string. */
export function goDurationToMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (value === '0') return 0;
  if (!WHOLE.test(value)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  return ms;
}
