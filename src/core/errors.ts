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
  | 'MESH_BAD_REQUEST';

export interface MeshErrorOptions {
  cause?: unknown;
  service?: string;
  /** Attempts made before giving up (MESH_UPSTREAM_FAILED, MESH_TIMEOUT). */
  attempts?: number;
  /** Config validation problems, each with its path (MESH_CONFIG_INVALID). */
  issues?: readonly ConfigIssue[];
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

  constructor(code: MeshErrorCode, message: string, options: MeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.service = options.service;
    this.attempts = options.attempts;
    this.issues = options.issues;
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
