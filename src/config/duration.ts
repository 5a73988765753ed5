/**
 * Durations in config: `"250ms"`, `"2s"`, `"1.5s"`, `"1m"`, `"1h"`, or a number of
 * milliseconds. Everything policy code sees is milliseconds; the parsing lives here once so
 * the config schema and per-call options (`timeout: '800ms'`) accept exactly the same forms.
 */
import { MeshError, type MeshErrorCode } from '../core/errors.ts';
import { describeValue } from './describe.ts';
import { MAX_DURATION_MS } from './limits.ts';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PATTERN = /^(\d{1,15}(?:\.\d{1,9})?)(ms|s|m|h)$/;
const FORMS = 'a number of milliseconds or a string like "250ms", "2s", "1.5s", "1m", "1h"';

export type DurationResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly message: string };

export function parseDuration(value: unknown): DurationResult {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION_PATTERN.exec(value);
    if (match === null) {
      const hint = value.trimStart().startsWith('-') ? ' (negative durations are not allowed)' : '';
      return fail(`expected a duration: ${FORMS}, got ${describeValue(value)}${hint}`);
    }
    ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  } else {
    return fail(`expected a duration: ${FORMS}, got ${describeValue(value)}`);
  }
  if (!Number.isFinite(ms)) return fail(`expected a finite duration, got ${describeValue(value)}`);
  if (ms < 0) return fail(`expected a duration ≥ 0, got ${describeValue(value)}`);
  if (ms > MAX_DURATION_MS) return fail(`expected a duration of at most 24h, got ${describeValue(value)}`);
  return { ok: true, ms };
}

/** For call options: the duration in ms, or a MeshError naming the option. */
export function durationOrThrow(value: unknown, option: string, code: MeshErrorCode = 'MESH_BAD_REQUEST'): number {
  const result = parseDuration(value);
  if (result.ok) return result.ms;
  throw new MeshError(code, `${option}: ${result.message}`);
}

function fail(message: string): DurationResult {
  return { ok: false, message };
}
