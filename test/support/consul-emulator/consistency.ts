/**
 * Consul's read consistency modes (HTTPGO `parseConsistency`, CONSDOC). The flags are
 * presence-based: `?stale=false` still asks for a stale read, because Consul only tests whether
 * the parameter is there.
 */
import { parseGoDuration } from './go-duration.ts';
import { HttpError } from './http-error.ts';

export type Consistency = 'leader' | 'stale' | 'consistent';

export function parseConsistency(params: URLSearchParams): Consistency {
  const maxStale = params.get('max_stale');
  if (maxStale !== null && parseGoDuration(maxStale) === undefined) {
    throw new HttpError(400, `Invalid max_stale value "${maxStale}"`);
  }
  const stale = params.has('stale') || (maxStale !== null && (parseGoDuration(maxStale) ?? 0) > 0);
  const consistent = params.has('consistent');
  if (stale && consistent) throw new HttpError(400, 'Cannot specify ?stale with ?consistent, conflicting semantics.');
  if (params.has('cached') && consistent) throw new HttpError(400, 'Cannot specify ?cached with ?consistent, conflicting semantics.');
  if (consistent) return 'consistent';
  return stale ? 'stale' : 'leader';
}
