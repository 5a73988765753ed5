/**
 * What `mesh.fetch` does with each member of a WHATWG `RequestInit`, in one table. A member
 * meshlet cannot honour is refused with MESH_BAD_REQUEST, never ignored: `integrity` that is
 * never checked, or `redirect: 'follow'` that never follows, would each let a call do less
 * than its author asked for without a word (issue 9, defect 8).
 *
 * - honoured: `method`, `headers`, `body`, `signal`, `duplex` (undici's, for stream bodies),
 *   `window` (must be null, as the spec says);
 * - `redirect`: only `'manual'`: a redirect comes back as the response it is. meshlet calls a
 *   logical service, and a `Location` points outside it (a host, not a service name);
 * - accepted because meshlet already behaves as asked: `mode`, `credentials` (there is no
 *   origin, no CORS and no cookie jar in a server-side call), `referrerPolicy` (no referrer
 *   is sent), `keepalive`, `priority`, `cache` except `'only-if-cached'` (meshlet has no
 *   cache: every call goes to the network, which is what every other value allows);
 * - refused when set: `referrer` (set a `referer` header), `integrity` (not verified),
 *   `dispatcher` (meshlet's transport chooses the connection), and any unknown member.
 */
import { describe, unknownKeyMessage } from './call-argument-error.ts';
import type { MeshError } from '../core/errors.ts';
import { invalidArgument } from '../core/mesh-errors.ts';

type Check = (value: unknown) => string | undefined;

const accepted: Check = () => undefined;

const MEMBERS: Readonly<Record<string, Check>> = {
  method: accepted,
  headers: accepted,
  body: accepted,
  signal: accepted,
  duplex: accepted,
  window: accepted,
  mode: accepted,
  credentials: accepted,
  referrerPolicy: accepted,
  keepalive: accepted,
  priority: accepted,
  redirect: (value) =>
    value === 'manual'
      ? undefined
      : `redirect ${describe(value)} is not supported: meshlet returns a redirect as the response it is (pass redirect: 'manual', or leave it out)`,
  cache: (value) =>
    value === 'only-if-cached' ? "cache 'only-if-cached' cannot be met: meshlet has no HTTP cache, every call goes to the network" : undefined,
  referrer: (value) =>
    value === '' || value === 'about:client' ? undefined : 'referrer is not sent by meshlet; set a `referer` header instead',
  integrity: (value) =>
    value === '' ? undefined : 'integrity is not verified by meshlet; check the digest of the response body yourself',
  dispatcher: () => "dispatcher is meshlet's to choose (one pool per endpoint); configure `pool` and `tls` in the service's config",
};
const MEMBER_NAMES = Object.keys(MEMBERS);

/** Throws MESH_BAD_REQUEST for the first member of `init` that meshlet cannot honour. */
export function checkFetchInit(init: RequestInit | undefined): void {
  if (init === undefined || init === null) return;
  if (typeof init !== 'object') throw fetchRefused(`init must be an object (a RequestInit), got ${describe(init)}`);
  for (const key in init) {
    const value = (init as Record<string, unknown>)[key];
    // NOTE: as in WebIDL dictionaries, a member set to undefined is a member not given.
    if (value === undefined) continue;
    const check = Object.hasOwn(MEMBERS, key) ? MEMBERS[key] : undefined;
    const problem = check === undefined ? unknownKeyMessage('RequestInit member', key, MEMBER_NAMES) : check(value);
    if (problem !== undefined) throw fetchRefused(problem);
  }
}

/**
 * The same limits on what a `Request` given as input carries. Its `redirect` is `'follow'`
 * unless its author chose otherwise, and that default cannot be told from a choice, so only
 * `'error'` (which meshlet cannot honour either) is refused; `init.redirect` is checked above.
 */
export function checkFetchRequest(request: Request): void {
  for (const key of ['cache', 'referrer', 'integrity'] as const) {
    const problem = MEMBERS[key]!(request[key]);
    if (problem !== undefined) throw fetchRefused(problem);
  }
  if (request.redirect === 'error') throw fetchRefused(MEMBERS.redirect!('error')!);
}

export function fetchRefused(message: string): MeshError {
  return invalidArgument('mesh.fetch', message);
}
