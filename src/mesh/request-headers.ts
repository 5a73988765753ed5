/**
 * The caller's headers, in every form undici's `request` and WHATWG `fetch` accept, turned
 * into the one shape the stack carries (lower-case names, a string or an array of strings)
 * — or refused. A form that is not understood must never mean "sent without headers": a
 * `Headers` or `Map` read as a plain object has no own keys, and the call used to leave with
 * none of them (issue 9).
 *
 * Accepted: a plain object (`{ name: value }`), a flat array (`['name', 'value', …]`, as
 * undici takes raw headers), an array or any other iterable of `[name, value]` pairs (a
 * `Headers`, a `Map`, a generator). A name given more than once keeps every value, each sent
 * as its own header line, as undici sends them (`set-cookie` from a `Headers` included).
 */
import { ATTEMPT_HEADER, TIMEOUT_HEADER } from '../resilience/attempt.ts';
import { NO_HEADERS } from '../core/service.ts';
import { badRequest, describe } from './call-argument-error.ts';

type HeaderValue = string | readonly string[] | number | undefined;

/** What `headers` may be, in `client.request` options and (through the Request) in `mesh.fetch`. */
export type HeadersInput =
  | Readonly<Record<string, HeaderValue>>
  | Headers
  | ReadonlyMap<string, HeaderValue>
  | Iterable<readonly [string, HeaderValue]>
  | readonly string[];

export type CallHeaders = Record<string, string | string[]>;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const UNSAFE_VALUE = /[\r\n\0]/;
const FORMS = 'a plain object, a Headers, a Map, an array of [name, value] pairs or a flat [name, value, …] array';

/**
 * Headers the caller may not set, and what to do instead: one lookup per header name.
 * Connection-level ones belong to the transport (RFC 9110 §7.6.1); meshlet's own carry the
 * call's deadline and attempt number to the next hop, and a caller's copy would tell it
 * something false (a first attempt numbered 3, a deadline the call does not have).
 */
const NOT_THE_CALLERS: ReadonlyMap<string, string> = new Map([
  ...['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection'].map(
    (name): [string, string] => [name, `header '${name}' is connection-level and managed by meshlet's transport; remove it`],
  ),
  ['expect', "header 'expect' is not supported by meshlet's transport (undici); remove it"],
  [
    TIMEOUT_HEADER,
    `header '${TIMEOUT_HEADER}' is meshlet's own: it carries the time the call has left; set the call's \`timeout\`, or make the call inside runWithInbound({ timeout }) to pass an inbound deadline on`,
  ],
  [ATTEMPT_HEADER, `header '${ATTEMPT_HEADER}' is meshlet's own: it numbers retries and hedges; remove it`],
]);

/** undici refuses these twice; refused here, before anything is sent, instead. */
const AT_MOST_ONCE = new Set(['host', 'content-length']);

export function parseHeaders(service: string, input: unknown): CallHeaders {
  if (input === undefined || input === null) return NO_HEADERS as CallHeaders;
  if (typeof input !== 'object') throw badRequest(service, `headers must be ${FORMS}, got ${describe(input)}`);
  const headers: CallHeaders = Object.create(null);
  const prototype = Object.getPrototypeOf(input);
  // The common case first: a plain object (or Node's null-prototype IncomingHttpHeaders).
  if (prototype === Object.prototype || prototype === null) {
    const record = input as Record<string, unknown>;
    for (const name in record) add(service, headers, name, record[name]);
  } else if (Array.isArray(input)) {
    addArray(service, headers, input);
  } else if (typeof (input as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const pair of input as Iterable<unknown>) addPair(service, headers, pair);
  } else {
    // NOTE: an object of some class that is not iterable is refused rather than read by its
    // own keys: that reading is exactly how a Headers-like object lost every header.
    throw badRequest(service, `headers must be ${FORMS}, got ${describe(input)}`);
  }
  return headers;
}

function addArray(service: string, headers: CallHeaders, input: readonly unknown[]): void {
  if (input.length === 0) return;
  if (Array.isArray(input[0])) {
    for (const pair of input) addPair(service, headers, pair);
    return;
  }
  if (input.length % 2 !== 0) {
    throw badRequest(service, `a flat headers array alternates names and values, so its length is even; got ${input.length} items`);
  }
  for (let i = 0; i < input.length; i += 2) add(service, headers, input[i], input[i + 1]);
}

function addPair(service: string, headers: CallHeaders, pair: unknown): void {
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw badRequest(service, `each header pair must be [name, value], got ${describe(pair)}`);
  }
  add(service, headers, pair[0], pair[1]);
}

function add(service: string, headers: CallHeaders, name: unknown, value: unknown): void {
  if (value === undefined) return;
  if (typeof name !== 'string' || !TOKEN.test(name)) throw badRequest(service, `header name ${describe(name)} is not a valid HTTP token`);
  const lower = name.toLowerCase();
  const refusal = NOT_THE_CALLERS.get(lower);
  if (refusal !== undefined) throw badRequest(service, refusal);
  const checked = headerValue(service, lower, value);
  const previous = headers[lower];
  if (previous === undefined && typeof checked === 'string') {
    headers[lower] = checked;
    return;
  }
  if (AT_MOST_ONCE.has(lower)) throw badRequest(service, `header '${lower}' takes one value, given once`);
  if (previous === undefined) {
    headers[lower] = checked;
    return;
  }
  headers[lower] = [...(typeof previous === 'string' ? [previous] : previous), ...(typeof checked === 'string' ? [checked] : checked)];
}

function headerValue(service: string, name: string, value: unknown): string | string[] {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string') {
    if (UNSAFE_VALUE.test(value)) throw badRequest(service, `header '${name}' contains CR, LF or NUL (header injection)`);
    return value;
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    for (const v of value) headerValue(service, name, v);
    // A copy: the caller's array is theirs to change after the call starts.
    return [...value];
  }
  throw badRequest(service, `header '${name}' must be a string, a number or an array of strings, got ${describe(value)}`);
}
