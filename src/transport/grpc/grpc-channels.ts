/**
 * gRPC calls on meshlet's diagnostics channels (src/telemetry/channels.ts, the contract), as
 * HTTP calls are: `meshlet:call:start/end` once per logical call and `meshlet:attempt:start/end`
 * per attempt, with the mesh's id, so the admin dashboard's statistics (admin/call-stats.ts)
 * and any APM count gRPC calls beside the service's HTTP ones.
 *
 * The messages keep the contract's fields as HTTP fills them: `method` is 'POST' (what every
 * gRPC call is on the wire; the contract carries no path, and `/pkg.Service/Method` is one);
 * `statusCode` is 200 when the server answered (whatever its gRPC status: the answer's verdict
 * is `outcome`, from the gRPC classifier) and undefined when the call failed without an answer.
 *
 * NOTE: nothing is made while nobody subscribes: `watchCall` returns undefined after four
 * field reads, and the call and its attempts then carry nothing.
 */
import grpc from '@grpc/grpc-js';
import type { Attempt } from '../../core/attempt.ts';
import type { Clock } from '../../core/clock.ts';
import { isMeshError } from '../../core/errors.ts';
import type { MeshResponse } from '../../core/service.ts';
import { attemptEndChannel, attemptStartChannel, type CallStartMessage, callEndChannel, callStartChannel } from '../../telemetry/channels.ts';
import { errorCodeOf } from '../../telemetry/call-record.ts';
import { grpcClassifier } from './grpc-stack.ts';
import type { AttemptWatch } from './grpc-types.ts';
import { GrpcStatusError } from './status.ts';

const { status: Status } = grpc;

/**
 * A low-cardinality name for a failure: the gRPC status's name (`UNAVAILABLE`) when the server
 * answered with one, else the MeshError code. The retry layer hands on a server's final answer
 * as MESH_UPSTREAM_FAILED with the status as its cause: that is still the server's status.
 */
function errorTypeOf(error: unknown): string | undefined {
  const answer = error instanceof GrpcStatusError ? error : isMeshError(error) && error.code === 'MESH_UPSTREAM_FAILED' && error.cause instanceof GrpcStatusError ? error.cause : undefined;
  return answer !== undefined ? (Status[answer.status.code] ?? String(answer.status.code)) : errorCodeOf(error);
}

/** One watched logical call: what its call and attempt messages say. */
export class GrpcCallWatch implements AttemptWatch {
  readonly #start: CallStartMessage;
  readonly #clock: Clock;
  attempts = 0;

  constructor(mesh: number, service: string, clock: Clock, startedAt: number) {
    this.#clock = clock;
    this.#start = { mesh, service, route: undefined, method: 'POST', startedAt };
    if (callStartChannel.hasSubscribers) callStartChannel.publish(this.#start);
  }

  /** The call is over: `response` when the server answered, else `error`. */
  end(response: MeshResponse | undefined, error: unknown): void {
    if (!callEndChannel.hasSubscribers) return;
    const outcome = grpcClassifier.classify(response as MeshResponse, error).kind;
    const errorCode = response === undefined ? errorTypeOf(error) : undefined;
    callEndChannel.publish({ ...this.#start, durationMs: this.#clock.now() - this.#start.startedAt, statusCode: response?.statusCode, outcome, errorCode, attempts: this.attempts });
  }

  /** An attempt left for its endpoint (attempt-transport.ts). */
  attemptStarted(attempt: Attempt): void {
    this.attempts++;
    if (attemptStartChannel.hasSubscribers) attemptStartChannel.publish(this.#attemptStart(attempt));
  }

  /** That attempt ended: `response` when the server answered, else `error`; `attempt.outcome` is its verdict when one was made. */
  attemptEnded(attempt: Attempt, response: MeshResponse | undefined, error: unknown): void {
    if (!attemptEndChannel.hasSubscribers) return;
    const start = this.#attemptStart(attempt);
    const outcome = attempt.outcome ?? grpcClassifier.classify(response as MeshResponse, error);
    const errorType = response === undefined ? errorTypeOf(error) : undefined;
    attemptEndChannel.publish({ ...start, durationMs: this.#clock.now() - start.startedAt, statusCode: response?.statusCode, outcome: outcome.kind, condition: outcome.condition, errorType });
  }

  #attemptStart(attempt: Attempt) {
    const { mesh, service, method } = this.#start;
    return { mesh, service, attempt: attempt.number, hedge: attempt.hedge, endpoint: attempt.endpoint?.address.id ?? '', method, startedAt: attempt.attemptAt };
  }
}

/** A watch for a call starting now, when anyone listens to the call or attempt channels; else undefined. */
export function watchCall(mesh: number, service: string, clock: Clock, startedAt: number): GrpcCallWatch | undefined {
  if (!callStartChannel.hasSubscribers && !callEndChannel.hasSubscribers && !attemptStartChannel.hasSubscribers && !attemptEndChannel.hasSubscribers) return undefined;
  return new GrpcCallWatch(mesh, service, clock, startedAt);
}
