/**
 * meshlet's own header names (`x-meshlet-timeout-ms` on every attempt, `x-meshlet-attempt` on
 * retries and hedges) made known to undici the way it knows `content-type`. For every header
 * of every request, undici's `Request` looks the name up in its table of well-known names; a
 * name it does not find is lower-cased and checked against the token grammar by a regular
 * expression. meshlet's names are constants, already lower-case tokens, so that work is the
 * same every time: adding them to the table (name -> itself) skips it. Measured on undici's
 * own `Request` alone: ~150 -> ~95 ns for a request carrying the timeout header.
 *
 * NOTE: the table is undici's internal (lib/core/constants.js, in place through undici 6–7),
 * loaded from the same package instance, and shared by every undici user in the process. The
 * only reader that sees the entries is a lookup that maps a name to its lower-cased form,
 * which for these names is the name itself, so no one else's request changes. Should the
 * table go away in an undici release, this does nothing and undici validates as before.
 */
import { createRequire } from 'node:module';
import { ATTEMPT_HEADER, TIMEOUT_HEADER } from '../../resilience/attempt.ts';

const require = createRequire(import.meta.url);

/** Adds meshlet's header names to undici's well-known names; true when the table was there. */
export function registerMeshHeaderNames(): boolean {
  const { headerNameLowerCasedRecord: known } = require('undici/lib/core/constants.js') as { headerNameLowerCasedRecord?: Record<string, string> };
  if (typeof known !== 'object' || known === null) return false;
  for (const name of [TIMEOUT_HEADER, ATTEMPT_HEADER]) known[name] ??= name;
  return true;
}
