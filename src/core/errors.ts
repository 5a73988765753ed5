/**
 * Every failure meshlet raises is a MeshError with a stable `code`, a message that says what
 * to do, and the underlying `cause`. The brand is a global symbol so `isMeshError` works
 * even when two copies of meshlet are loaded (undici and grpc-js use the same trick).
 */

const BRAND = Symbol.for('meshlet.MeshError');

export type MeshErrorCode =
  | 'MESH_TIMEOUT'
  | 'MESH_NO_ENDPOINTS'
  | 'MESH_CIRCUIT_OPEN'
  | 'MESH_RATE_LIMITED'
  | 'MESH_CONCURRENCY_LIMIT'
  | 'MESH_UPSTREAM_FAILED'
  | 'MESH_UNKNOWN_SERVICE'
  | 'MESH_CONFIG_INVALID'
  | 'MESH_CLOSED'
  | 'MESH_ABORTED'
  | 'MESH_BAD_REQUEST'
  | 'MESH_CONSUL_FAILED';

export interface MeshErrorOptions {
  cause?: unknown;
  service?: string;
  /** Attempts made before giving up (MESH_UPSTREAM_FAILED, MESH_TIMEOUT). */
  attempts?: number;
  /** Config validation problems, each with its path (MESH_CONFIG_INVALID). */
  issues?: readonly ConfigIssue[];
  /** The HTTP status Consul answered with (MESH_CONSUL_FAILED), when it answered. */
  status?: number;
}

export interface ConfigIssue {
  /** Dotted path into the config, e.g. `services.payments.retry.attempts`. */
  path: string;
  message: string;
}

export class MeshError extends Error {
  readonly code: MeshErrorCode;
  readonly service: string | undefined;
  readonly attempts: number | undefined;
  readonly issues: readonly ConfigIssue[] | undefined;
  readonly status: number | undefined;

  constructor(code: MeshErrorCode, message: string, options: MeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.service = options.service;
    this.attempts = options.attempts;
    this.issues = options.issues;
    this.status = options.status;
  }

  get [BRAND](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isMeshError(value);
  }
}

export function isMeshError(value: unknown): value is MeshError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * How an attempt failed below HTTP: the retry layer needs to know whether the request can
 * have reached the server (a non-idempotent call is resent only when it provably did not).
 */
export type TransportFailureKind = 'connect-error' | 'reset' | 'timeout' | 'closed' | 'protocol';

/**
 * Internal: raised by the transport for one attempt. The retry layer turns the last one into
 * a MeshError (MESH_UPSTREAM_FAILED or MESH_TIMEOUT) before it reaches the caller.
 */
export class TransportError extends Error {
  readonly kind: TransportFailureKind;
  /** False only when the request provably never left this process (refused, DNS, pool closed before write). */
  readonly maybeSent: boolean;
  readonly endpoint: string | undefined;

  constructor(kind: TransportFailureKind, maybeSent: boolean, message: string, cause?: unknown, endpoint?: string) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
    this.kind = kind;
    this.maybeSent = maybeSent;
    this.endpoint = endpoint;
  }
}

/**
 * Why a call was cancelled from above, for the one MESH_ABORTED message. NOTE: every
 * MESH_ABORTED is built here, so every layer (the breaker, outlier detection, the load metric,
 * the concurrency limiter, the retry budget) recognises a caller's abort the same way.
 */
export type AbortPhase = 'before it was sent' | 'in flight' | 'while waiting to retry' | 'while waiting for a concurrency slot' | 'during an injected delay' | 'while its response body was read';

const CALLER_ABORT = Symbol('meshlet.callerAbort');

/** The caller (its AbortSignal, or the inbound request it serves) cancelled the call. */
export function callerAborted(service: string | undefined, phase: AbortPhase, reason: unknown): MeshError {
  if (isMeshError(reason)) return reason;
  const name = service === undefined ? 'the call' : `call to '${service}'`;
  const error = new MeshError('MESH_ABORTED', `${name} was aborted by the caller ${phase}; nothing to do unless the abort was unexpected`, {
    service,
    cause: reason,
  });
  (error as unknown as Record<symbol, boolean>)[CALLER_ABORT] = true;
  return error;
}

/** A hedged attempt lost the race: cancelled by meshlet, not by the caller, and not a failure. */
export function attemptSuperseded(service: string): MeshError {
  return new MeshError('MESH_ABORTED', `call to '${service}' had an attempt cancelled because a hedged attempt answered first; nothing to do, the call takes that answer`, { service });
}

/**
 * True when the caller cancelled: such an attempt says nothing about the dependency, not even
 * a lower bound on its latency (a caller may cancel a call it no longer needs at any time).
 */
export function isCallerAbort(error: unknown): boolean {
  return isMeshError(error) && (error as unknown as Record<symbol, boolean>)[CALLER_ABORT] === true;
}
