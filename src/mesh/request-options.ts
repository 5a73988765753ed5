/**
 * The call arguments users pass to `client.request()`, checked at the door. A bad argument
 * (an invalid method, a path without `/`, a CR/LF smuggled into a header) fails with
 * MESH_BAD_REQUEST before anything is sent, instead of surfacing later as a confusing
 * transport error or, worse, a split request on the wire.
 */
import { Readable } from 'node:stream';
import { MeshError } from '../core/errors.ts';
import { type MeshRequest, NO_HEADERS, type RequestBody } from '../core/service.ts';
import { parseDuration } from '../config/duration.ts';

export interface RequestOptions {
  method?: string;
  /** Path and query, starting with `/`. */
  path?: string;
  headers?: Record<string, string | string[] | number | undefined>;
  body?: RequestBody;
  /** Declares a POST/PATCH safe to resend (see the README's idempotency rules). */
  idempotent?: boolean;
  /** Total deadline for this call (`'800ms'`, `'2s'` or milliseconds); overrides the service's. */
  timeout?: string | number;
  signal?: AbortSignal;
  /** Key for ring-hash balancing. */
  hashKey?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const UNSAFE_VALUE = /[\r\n\0]/;
const UNSAFE_PATH = /[\s\0]/;
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Connection-level headers belong to the transport, not the caller (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection']);
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

export interface ParsedCall {
  readonly request: MeshRequest;
  /** Milliseconds, when the call set its own timeout. */
  readonly timeout: number | undefined;
  readonly signal: AbortSignal | undefined;
}

export function parseRequestOptions(service: string, options: unknown): ParsedCall {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw badRequest(service, 'request options must be an object like { method: "GET", path: "/" }');
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
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw badRequest(service, 'signal must be an AbortSignal');
  }
  if (o.hashKey !== undefined && typeof o.hashKey !== 'string') {
    throw badRequest(service, `hashKey must be a string, got ${describe(o.hashKey)}`);
  }
  let timeout: number | undefined;
  if (o.timeout !== undefined) {
    const parsed = parseDuration(o.timeout);
    if (!parsed.ok) throw badRequest(service, `timeout: ${parsed.message}`);
    timeout = parsed.ms;
  }
  const idempotent =
    o.idempotent ?? (IDEMPOTENT_METHODS.has(method) || headers['idempotency-key'] !== undefined);
  const request: MeshRequest = {
    method,
    path,
    headers,
    body,
    idempotent,
    replayable: !streamed,
    hashKey: o.hashKey,
  };
  return { request, timeout, signal: o.signal };
}


function parseHeaders(service: string, input: RequestOptions['headers']): Record<string, string | string[]> {
  if (input === undefined || input === null) return NO_HEADERS as Record<string, string>;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw badRequest(service, 'headers must be an object of name → string');
  }
  const headers: Record<string, string | string[]> = Object.create(null);
  for (const name of Object.keys(input)) {
    const value = input[name];
    if (value === undefined) continue;
    if (!TOKEN.test(name)) throw badRequest(service, `header name ${describe(name)} is not a valid HTTP token`);
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      throw badRequest(service, `header '${lower}' is connection-level and managed by meshlet's transport; remove it`);
    }
    headers[lower] = headerValue(service, lower, value);
  }
  return headers;
}

function headerValue(service: string, name: string, value: unknown): string | string[] {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string') {
    if (UNSAFE_VALUE.test(value)) throw badRequest(service, `header '${name}' contains CR, LF or NUL (header injection)`);
    return value;
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    for (const v of value) headerValue(service, name, v);
    return value as string[];
  }
  throw badRequest(service, `header '${name}' must be a string, a number or an array of strings, got ${describe(value)}`);
}

function badRequest(service: string, message: string): MeshError {
  return new MeshError('MESH_BAD_REQUEST', `invalid call to '${service}': ${message}`, { service });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 64 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object (${value.constructor?.name ?? 'null prototype'})` : String(value);
}
