/**
 * The gRPC classifier: what an attempt's gRPC status means, as the protocol-neutral Outcome
 * (src/core/outcome.ts) that retries, the breaker, the load metric and outlier ejection read.
 *
 * Retry conditions reuse the vocabulary of `retry.on` (one config for both protocols): a gRPC
 * status counts as its HTTP equivalent in gRPC's own mapping — UNAVAILABLE '503',
 * DEADLINE_EXCEEDED '504', RESOURCE_EXHAUSTED '429' — so the default `on` (502/503/504) retries
 * UNAVAILABLE and DEADLINE_EXCEEDED, and RESOURCE_EXHAUSTED when a policy names '429'.
 * Idempotency (DESIGN §5, issue 14): UNAVAILABLE before the server sent its response headers
 * says the request was not processed (gRPC's meaning of the code), so any method may be
 * retried; every other status, and UNAVAILABLE after headers, proves nothing about side
 * effects, so only methods marked idempotent are retried.
 *
 * And the other way: a failure meshlet decided (no endpoint, deadline, open breaker, limits) is
 * given to the caller as the status grpc-js turns into a ServiceError, with the MeshError as
 * its `cause` (grpc-js copies the status object's own fields onto the error).
 */
import grpc from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { isMeshError, type MeshError, type MeshErrorCode } from '../../core/errors.ts';
import { type Outcome, outcomeOfError, type RetryCondition, SUCCESS } from '../../core/outcome.ts';

const { status: Status, Metadata } = grpc;

function outcome(kind: Outcome['kind'], condition: RetryCondition | undefined, maybeSent: boolean): Outcome {
  return Object.freeze({ kind, condition, maybeSent, reason: undefined });
}

/** The dependency answered and did its job (the caller's mistake or a business refusal). */
const ANSWERED = outcome('success', undefined, true);
const FAILED = outcome('failure', undefined, true);
const UNAVAILABLE_UNSENT = outcome('failure', '503', false);
const UNAVAILABLE_SENT = outcome('failure', '503', true);
const DEADLINE = outcome('failure', '504', true);
const EXHAUSTED = outcome('failure', '429', true);
const CANCELLED = outcome('not-the-dependency', undefined, true);

/** Statuses that count against the endpoint and the service; every other non-OK status is an answer. */
const BY_CODE: ReadonlyMap<number, Outcome> = new Map([
  [Status.UNKNOWN, FAILED],
  [Status.DEADLINE_EXCEEDED, DEADLINE],
  [Status.RESOURCE_EXHAUSTED, EXHAUSTED],
  [Status.INTERNAL, FAILED],
  [Status.DATA_LOSS, FAILED],
]);

/**
 * `headersSeen`: the server sent response metadata before the status (it had the request).
 * `cancelled`: meshlet or the caller cancelled this attempt, so CANCELLED is nobody's fault.
 */
export function classifyGrpc(code: number, headersSeen: boolean): Outcome {
  if (code === Status.OK) return SUCCESS;
  if (code === Status.UNAVAILABLE) return headersSeen ? UNAVAILABLE_SENT : UNAVAILABLE_UNSENT;
  if (code === Status.CANCELLED) return CANCELLED;
  return BY_CODE.get(code) ?? ANSWERED;
}

/** The same verdict with no retry condition: the server said not to retry (pushback). */
export function withoutRetry(verdict: Outcome): Outcome {
  return verdict.kind === 'failure' ? FAILED : ANSWERED;
}

/** A status with the error meshlet decided on as its `cause` (kept by grpc-js on the ServiceError). */
export interface MeshStatus extends StatusObject {
  cause?: unknown;
}

const STATUS_OF_CODE: Readonly<Record<MeshErrorCode, number>> = {
  MESH_TIMEOUT: Status.DEADLINE_EXCEEDED,
  MESH_NO_ENDPOINTS: Status.UNAVAILABLE,
  MESH_CIRCUIT_OPEN: Status.UNAVAILABLE,
  MESH_RATE_LIMITED: Status.RESOURCE_EXHAUSTED,
  MESH_CONCURRENCY_LIMIT: Status.RESOURCE_EXHAUSTED,
  MESH_UPSTREAM_FAILED: Status.UNAVAILABLE,
  MESH_UNKNOWN_SERVICE: Status.UNAVAILABLE,
  MESH_CONFIG_INVALID: Status.INTERNAL,
  MESH_CLOSED: Status.UNAVAILABLE,
  MESH_ABORTED: Status.CANCELLED,
  MESH_BAD_REQUEST: Status.INVALID_ARGUMENT,
  MESH_CONSUL_FAILED: Status.UNAVAILABLE,
};

/** Marks an error that carries the status an attempt ended with (the server's, or grpc-js's). */
export class GrpcStatusError extends Error {
  readonly status: StatusObject;
  constructor(status: StatusObject) {
    super(`${status.code} ${Status[status.code]}: ${status.details}`);
    this.name = 'GrpcStatusError';
    this.status = status;
  }
}

/**
 * The status a call ends with for `error` (what the stack rejected with): a status an attempt
 * ended with as it came; a MeshError mapped by its code, itself the `cause`; anything else
 * (a bug) INTERNAL with the error as cause.
 */
export function statusOfError(error: unknown): MeshStatus {
  if (error instanceof GrpcStatusError) return error.status;
  if (isMeshError(error)) {
    const meshError = error as MeshError;
    const last = meshError.cause;
    // A retry that gave up hands back the last attempt's own status, with meshlet's account.
    if (last instanceof GrpcStatusError) return { ...last.status, cause: meshError };
    return { code: STATUS_OF_CODE[meshError.code] ?? Status.UNKNOWN, details: meshError.message, metadata: new Metadata(), cause: meshError };
  }
  return { code: Status.INTERNAL, details: `meshlet failed the call: ${String(error)}`, metadata: new Metadata(), cause: error };
}

/** The outcome of an error no attempt classified (refused before any was made). */
export function outcomeOfGrpcError(error: unknown): Outcome {
  return error instanceof GrpcStatusError ? classifyGrpc(error.status.code, false) : outcomeOfError(error);
}
