/**
 * Turns what undici throws into what the stack reasons about: a TransportError whose `kind`
 * picks the retry condition and whose `maybeSent` says whether a non-idempotent call may be
 * resent (DESIGN §5: never a duplicate side effect). `maybeSent` is false only where undici's
 * source (v7, lib/dispatcher/client.js and client-h1.js) shows no request byte reached an
 * HTTP server:
 * - connect failures (refused, DNS, connect timeout, unreachable): undici writes a request
 *   only after its connector resolved, and these fail the connector;
 * - TLS handshake failures (`ERR_SSL_*`, certificate checks): certificate checks run before
 *   `secureConnect`, and undici writes nothing before it; a handshake alert from the peer (a
 *   TLS 1.2 server refusing our client certificate, a plain-HTTP peer answering a ClientHello)
 *   means its TLS layer never accepted an application record. NOTE: a TLS 1.3 server refusing
 *   the client certificate does so after the client's Finished, when undici has already
 *   written the request; the client often sees only "other side closed" (UND_ERR_SOCKET),
 *   which cannot be told apart from a real reset, so it stays `reset`/maybeSent (measured in
 *   test/transport/tls.test.ts);
 * - `UND_ERR_CLOSED`: thrown only by `dispatch()` on a closed pool, before any queueing.
 * Everything else errs on the side of "may have been sent": a reset on a reused keep-alive
 * socket can hit a request the server already started.
 */
import { callerAborted, TransportError, isMeshError } from '../../core/errors.ts';
import { bodyBrokeOff, refusedByClient } from '../../core/mesh-errors.ts';
import type { TransportFailureKind } from '../../core/errors.ts';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NODATA',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** OpenSSL verification results Node reports on a failed server-certificate check. */
const CERTIFICATE_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
]);

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** Caller mistakes undici refuses before sending: not the upstream's fault, never retried. */
const BAD_REQUEST_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'ERR_INVALID_ARG_TYPE']);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** TLS handshake alerts and record-layer refusals: OpenSSL's `ERR_SSL_*` family. */
function isHandshakeFailure(code: string): boolean {
  return CERTIFICATE_CODES.has(code) || code.startsWith('ERR_SSL_');
}

/** `what` ends with what to do about it: the caller's MESH_UPSTREAM_FAILED repeats it and adds no advice of its own. */
function transportError(kind: TransportFailureKind, maybeSent: boolean, what: string, cause: unknown, endpoint: string): TransportError {
  return new TransportError(kind, maybeSent, `${what} (endpoint ${endpoint})`, cause, endpoint);
}

/**
 * The error the transport throws for `error`, raised by a call to `endpoint`. An aborted
 * signal wins over whatever undici reported: the deadline layer and per-try timeout abort
 * with the error they want the caller to see, and anything else is the caller cancelling.
 */
export function toTransportFailure(
  error: unknown,
  signal: { readonly aborted: boolean; readonly reason: unknown } | undefined,
  endpoint: string,
  service?: string,
): Error {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof TransportError) return reason;
    return callerAborted(service, 'in flight', reason);
  }
  // The mesh closing destroys its pools with a MESH_CLOSED, which undici hands back as is.
  if (isMeshError(error)) return error;
  const code = errorCode(error);
  if (code === undefined) return transportError('protocol', true, 'Unexpected failure from the HTTP client; its cause has the details', error, endpoint);
  if (CONNECT_CODES.has(code)) return transportError('connect-error', false, `Could not connect (${code}); check the endpoint is up and reachable`, error, endpoint);
  if (isHandshakeFailure(code)) {
    return transportError('connect-error', false, `TLS handshake failed (${code}); check the service's tls ca/cert/key/servername`, error, endpoint);
  }
  if (RESET_CODES.has(code)) return transportError('reset', true, `Connection reset by the upstream (${code}); it may have processed the request: check its logs for why it dropped the connection`, error, endpoint);
  if (TIMEOUT_CODES.has(code)) return transportError('timeout', true, `The upstream did not answer in time (${code})`, error, endpoint);
  if (code === 'UND_ERR_CLOSED') return transportError('closed', false, 'The endpoint was closed (it left discovery) before the request was sent; if this persists, check the service\'s discovery', error, endpoint);
  // NOTE: undici reports UND_ERR_DESTROYED both for requests still queued and for requests
  // already written when a pool is destroyed; the transport checks `destroyed` before
  // dispatching, so one seen here may have been in flight.
  if (code === 'UND_ERR_DESTROYED') return transportError('closed', true, 'The endpoint was destroyed while the request was in flight (it left discovery); if this persists, check the service\'s discovery', error, endpoint);
  if (BAD_REQUEST_CODES.has(code)) return refusedByClient(service, 'HTTP', code, error);
  return transportError('protocol', true, `The upstream broke the HTTP protocol (${code}); check that the endpoint serves HTTP on that port`, error, endpoint);
}

/** For a call on a pool already destroyed or closed: provably never sent. */
export function closedBeforeDispatch(endpoint: string): TransportError {
  return new TransportError('closed', false, `The endpoint ${endpoint} was closed (it left discovery) before the request was sent; if this persists, check the service's discovery`, undefined, endpoint);
}

/**
 * What the caller reading a response body gets when the body fails: always a MeshError, its
 * cause kept. The attempt (the signal undici has) already aborts with MeshErrors (the time limit, the caller's
 * abort); what is left is the connection failing mid-body (reset, a content-length the
 * server did not keep) and the caller destroying the body itself.
 */
export function bodyFailure(error: unknown, service: string, endpoint: string | undefined): unknown {
  if (error === null || error === undefined || isMeshError(error)) return error;
  const code = errorCode(error);
  if (code === 'UND_ERR_ABORTED') return callerAborted(service, 'while its response body was read', error);
  const why = code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' ? 'the body did not match its content-length' : `the connection failed (${code ?? String(error)})`;
  return bodyBrokeOff(service, endpoint, why, error);
}
