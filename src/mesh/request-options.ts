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
 * The request a call sends, from the caller's options, checked: all but the timeout, which
 * `callTimeout` checks and converts (its caller calls it next). NOTE: it returns the request alone, and the call's own timeout and signal are
 * read from the options by the caller, rather than the three coming back in an object made
 * for the purpose: an object less per call.
 */
export function parseRequestOptions(service: string, options: unknown): MeshRequest {
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
  const method = o.method === undefined ? 'GET' : (COMMON_METHODS.get(o.method) ?? checkedMethod(service, o.method));
  const path = o.path === undefined ? '/' : o.path;
  if (typeof path !== 'string' || path[0] !== '/' || path.length > MAX_PATH_LENGTH || UNSAFE_PATH.test(path)) {
    throw badRequest(
      service,
      `path must start with "/" and contain no whitespace or control characters (max ${MAX_PATH_LENGTH}), got ${describe(path)}`,
    );
  }
  const headers = parseHeaders(service, o.headers);
  const body = o.body ?? null;
  const streamed = body instanceof Readable;
  if (!(body === null || streamed || typeof body === 'string' || body instanceof Uint8Array)) {
    throw badRequest(service, `body must be a string, Buffer, Uint8Array, Readable or null, got ${describe(body)}`);
  }
  if (o.idempotent !== undefined && typeof o.idempotent !== 'boolean') {
    throw badRequest(service, `idempotent must be a boolean, got ${describe(o.idempotent)}`);
  }
  if (o.signal !== undefined && !isAbortSignal(o.signal)) {
    throw badRequest(service, 'signal must be an AbortSignal');
  }
  if (o.hashKey !== undefined && typeof o.hashKey !== 'string') {
    throw badRequest(service, `hashKey must be a string, got ${describe(o.hashKey)}`);
  }
  const idempotent =
    o.idempotent ?? (isIdempotentMethod(method) || headers['idempotency-key'] !== undefined);
  return {
    method,
    path,
    headers,
    body,
    idempotent,
    replayable: !streamed,
    hashKey: o.hashKey,
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

/** The call's own timeout in milliseconds; undefined when it set none. Throws MESH_BAD_REQUEST for one that does not parse. */
export function callTimeout(service: string, options: RequestOptions): number | undefined {
  if (options.timeout === undefined) return undefined;
  const parsed = parseDuration(options.timeout);
  if (!parsed.ok) throw badRequest(service, `timeout: ${parsed.message}`);
  return parsed.ms;
}
