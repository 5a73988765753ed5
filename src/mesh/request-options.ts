/**
 * The call arguments users pass to `client.request()`, checked at the door. A bad argument
 * (an invalid method, a path without `/`, a CR/LF smuggled into a header, an option meshlet
 * does not know) fails with MESH_BAD_REQUEST before anything is sent, instead of surfacing
 * later as a confusing transport error, a split request on the wire, or — for a typo such as
 * `timeoutMs` — a call that silently runs without what its author asked for.
 */
import { Readable } from 'node:stream';
import { isIdempotentMethod, type MeshRequest, type RequestBody } from '../core/service.ts';
import { parseDuration } from '../config/duration.ts';
import { badRequest, describe, unknownKeyMessage } from './call-argument-error.ts';
import { type HeadersInput, parseHeaders } from './request-headers.ts';

export interface RequestOptions {
  method?: string;
  /** Path and query, starting with `/`. */
  path?: string;
  /** A plain object, a `Headers`, a `Map`, `[name, value]` pairs or a flat undici-style array. */
  headers?: HeadersInput;
  body?: RequestBody;
  /** Declares a POST/PATCH safe to resend (see the README's idempotency rules). */
  idempotent?: boolean;
  /** Total deadline for this call (`'800ms'`, `'2s'` or milliseconds); overrides the service's. */
  timeout?: string | number;
  signal?: AbortSignal;
  /** Key for ring-hash balancing. */
  hashKey?: string;
}

const OPTION_NAMES: readonly (keyof RequestOptions)[] = ['method', 'path', 'headers', 'body', 'idempotent', 'timeout', 'signal', 'hashKey'];
/** Unknown options a caller is likely to reach for, and what to use instead. */
const OPTION_HINTS: Readonly<Record<string, string>> = {
  url: "the service is the client's: mesh.client('payments').request({ path: '/charge' }), or mesh.fetch('http://payments/charge')",
  service: "the service is the client's: mesh.client('payments')",
};

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const UNSAFE_PATH = /[\s\0]/;
const MAX_PATH_LENGTH = 16_384;

/** Any other method token is accepted; checking these is one lookup instead of a regex. */
const COMMON_METHODS = new Map<unknown, string>(
  ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].flatMap((m): [string, string][] => [
    [m, m],
    [m.toLowerCase(), m],
  ]),
);

function checkedMethod(service: string, method: unknown): string {
  if (typeof method !== 'string' || !TOKEN.test(method) || method.toUpperCase() === 'CONNECT') {
    throw badRequest(service, `method must be an HTTP method token such as "GET" or "POST", got ${describe(method)}`);
  }
  return method.toUpperCase();
}

/**
 * What a parse read besides the request: the call's own timeout (ms, converted; undefined when
 * it set none) and signal. Filled by each `parseRequestOptions` and read by its caller in the
 * next statements, before anything else can parse. NOTE: one slot per process rather than an
 * object per call that carries the three back (a call allocates one less); and the caller takes
 * them from here, not from the options again: an option read twice is a getter run twice, and a
 * getter may answer differently the second time (a value checked is the value used).
 */
export const parsedCall: { timeout: number | undefined; signal: AbortSignal | undefined } = { timeout: undefined, signal: undefined };

/**
 * The request a call sends, from the caller's options, checked; its timeout and signal go to
 * `parsedCall`. Each option is read once (a getter on the caller's options runs once).
 */
export function parseRequestOptions(service: string, options: unknown): MeshRequest {
  parsedCall.timeout = undefined;
  parsedCall.signal = undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw badRequest(service, 'request options must be an object like { method: "GET", path: "/" }');
  }
  // NOTE: a for-in over a handful of keys, each matched by a switch on constant strings
  // (identity compares) rather than a set lookup: cheap enough for every call. The cases are
  // OPTION_NAMES (test/mesh/request-options.test.ts checks that each is accepted).
  for (const key in options) {
    switch (key) {
      case 'method':
      case 'path':
      case 'headers':
      case 'body':
      case 'idempotent':
      case 'timeout':
      case 'signal':
      case 'hashKey':
        continue;
      default:
        // NOTE: an own hint only: `constructor`, `__proto__` or `toString` would otherwise find
        // Object.prototype's member and print it as the hint.
        throw badRequest(service, unknownKeyMessage('option', key, OPTION_NAMES, Object.hasOwn(OPTION_HINTS, key) ? OPTION_HINTS[key] : undefined));
    }
  }
  const o = options as RequestOptions;
  const givenMethod: unknown = o.method;
  const method = givenMethod === undefined ? 'GET' : (COMMON_METHODS.get(givenMethod) ?? checkedMethod(service, givenMethod));
  const givenPath: unknown = o.path;
  const path = givenPath === undefined ? '/' : givenPath;
  if (typeof path !== 'string' || path[0] !== '/' || path.length > MAX_PATH_LENGTH || UNSAFE_PATH.test(path)) {
    throw badRequest(
      service,
      `path must start with "/" and contain no whitespace or control characters (max ${MAX_PATH_LENGTH}), got ${describe(path)}`,
    );
  }
  const headers = parseHeaders(service, o.headers);
  const body: unknown = o.body ?? null;
  const streamed = body instanceof Readable;
  if (!(body === null || streamed || typeof body === 'string' || body instanceof Uint8Array)) {
    throw badRequest(service, `body must be a string, Buffer, Uint8Array, Readable or null, got ${describe(body)}`);
  }
  const givenIdempotent: unknown = o.idempotent;
  if (givenIdempotent !== undefined && typeof givenIdempotent !== 'boolean') {
    throw badRequest(service, `idempotent must be a boolean, got ${describe(givenIdempotent)}`);
  }
  const signal: unknown = o.signal;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw badRequest(service, 'signal must be an AbortSignal');
  }
  const hashKey: unknown = o.hashKey;
  if (hashKey !== undefined && typeof hashKey !== 'string') {
    throw badRequest(service, `hashKey must be a string, got ${describe(hashKey)}`);
  }
  const timeout = callTimeout(service, o.timeout);
  parsedCall.timeout = timeout;
  parsedCall.signal = signal;
  const idempotent = givenIdempotent ?? (isIdempotentMethod(method) || headers['idempotency-key'] !== undefined);
  return {
    method,
    path,
    headers,
    body,
    idempotent,
    replayable: !streamed,
    hashKey,
  };
}

/**
 * An AbortSignal, not merely an object on its prototype: `instanceof` is a prototype check,
 * and `Object.create(AbortSignal.prototype)` passes it but throws a TypeError (not a MeshError)
 * from the `aborted` getter the first layer reads. NOTE: the getter's own brand check is the
 * test; a real signal pays one getter call.
 */
function isAbortSignal(signal: unknown): signal is AbortSignal {
  if (!(signal instanceof AbortSignal)) return false;
  try {
    return typeof signal.aborted === 'boolean';
  } catch {
    return false;
  }
}

/** A call's own timeout in milliseconds; undefined when it set none. Throws MESH_BAD_REQUEST for one that does not parse. */
function callTimeout(service: string, timeout: unknown): number | undefined {
  if (timeout === undefined) return undefined;
  const parsed = parseDuration(timeout);
  if (!parsed.ok) throw badRequest(service, `timeout: ${parsed.message}`);
  return parsed.ms;
}
