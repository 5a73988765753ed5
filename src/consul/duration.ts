/**
 * Consul's durations are Go durations (`time.ParseDuration`: a unit is required). meshlet
 * writes them in the forms its own config accepts (`250ms`, `30s`, `1.5m`), which Go parses
 * too, so one parser (src/config/duration.ts) serves both.
 */
import { parseDuration } from '../config/duration.ts';
import { MeshError } from '../core/errors.ts';

/** Consul clamps a blocking query's wait here (BLKDOC "limited to 10 minutes"). */
export const MAX_WAIT_MS = 10 * 60_000;
/** Consul's wait when a blocking query names none (BLKDOC "defaults to 5 minutes"). */
export const DEFAULT_WAIT_MS = 5 * 60_000;

/** Milliseconds of a Go duration string meshlet sends (`wait`, a check's `TTL`). */
export function goDurationMs(value: string, option: string): number {
  const parsed = typeof value === 'string' ? parseDuration(value) : undefined;
  if (parsed?.ok !== true) {
    const reason = parsed === undefined ? 'it is not a string' : parsed.message;
    throw new MeshError('MESH_BAD_REQUEST', `${option}: Consul needs a Go duration with a unit such as "30s" or "250ms"; ${reason}`);
  }
  return parsed.ms;
}

/** A Go duration Consul parses exactly, for a duration meshlet holds in milliseconds. */
export function formatGoDuration(ms: number): string {
  return `${Math.max(0, Math.round(ms))}ms`;
}

/**
 * How long a blocking query may take before meshlet cuts it: Consul holds it for `wait`
 * (clamped to 10 minutes) plus a random stagger of up to wait/16 (RPCGO `JitterFraction`),
 * then answers, which takes as long as any request may. NOTE: a bound of `wait + 500ms`
 * (node-consul before #76/#77) cuts every query the stagger pushed past it.
 */
export function blockingTimeoutMs(waitMs: number | undefined, answerMs: number): number {
  const held = waitMs === undefined || waitMs <= 0 ? DEFAULT_WAIT_MS : Math.min(waitMs, MAX_WAIT_MS);
  return held + Math.ceil(held / 16) + answerMs;
}
