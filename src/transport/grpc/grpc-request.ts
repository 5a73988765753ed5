/**
 * A gRPC call as it travels down meshlet's stack. The layers (deadline, limits, breaker, retry,
 * balancer) read only the MeshRequest fields; the gRPC attempt at the bottom reads the rest:
 * the request message (kept, so a unary call can be sent again), the caller's metadata, the
 * grpc-js call options and `nextCall`, which starts one real call on the channel per attempt
 * (grpc-js interceptors may call it more than once: that is how a retry is made).
 *
 * What comes back up is a GrpcResponse: a MeshResponse in shape (status 200: the dependency
 * answered, whatever its gRPC status, see status.ts) so the shared layers treat it as an
 * answer, with the gRPC status, message and response metadata beside.
 */
import type { InterceptingListener, InterceptorOptions, Metadata, NextCall, StatusObject } from '@grpc/grpc-js';
import type { AttemptWatch, InterceptingCallInterface } from './grpc-types.ts';
import type { CallSpan } from './grpc-tracing.ts';
import { type MeshRequest, type MeshResponse, NO_HEADERS, type ResponseBody } from '../../core/service.ts';

/** Where a streaming call's response metadata and messages go as they arrive (no replay: nothing is kept). */
export type StreamListener = Pick<InterceptingListener, 'onReceiveMetadata' | 'onReceiveMessage'>;

/** The caller's side of the call (unary-call.ts, streaming-call.ts), as the attempts see it. */
export interface CallOwner {
  /** The caller cancelled: no attempt starts after this. */
  readonly cancelled: boolean;
  /** An attempt's real call started: the caller's cancel (and a stream's writes and reads) go to it now. */
  attach(call: InterceptingCallInterface): void;
  /** That attempt ended: until the next one starts (backoff, pushback), a cancel ends the call at once. */
  detach(call: InterceptingCallInterface): void;
  /** Streams only: the caller's listener for what arrives before the status. */
  readonly stream: StreamListener | undefined;
  /**
   * A signal the caller's cancel aborts, asked for only when a layer may hold the call: a hedge
   * race (unary: several attempts at once must all end, and the race with them), an injected
   * delay (its timer ends with the cancel), a concurrency queue (the call leaves it).
   */
  cancelSignal?(): AbortSignal;
  /** The call's span while an OpenTelemetry SDK traces (grpc-tracing.ts), timed while a meter records (grpc-metrics.ts); the owner ends it with the final status. */
  span: CallSpan | undefined;
}

export class GrpcRequest implements MeshRequest {
  readonly method = 'POST';
  readonly path: string;
  readonly headers = NO_HEADERS;
  readonly body = null;
  readonly idempotent: boolean;
  /** False for streams: a stream is never replayed. */
  readonly replayable: boolean;
  readonly hashKey: string | undefined;
  /** The one request message (unary and server-streaming); undefined for client streams. */
  readonly message: unknown;
  readonly metadata: Metadata;
  readonly options: InterceptorOptions;
  /**
   * The options each attempt's real call is made with: the caller's without a grpc-js deadline
   * (meshlet enforces the attempt's own limit, attempt-transport.ts), the same object when it had none.
   */
  readonly attemptOptions: InterceptorOptions;
  readonly nextCall: NextCall;
  readonly owner: CallOwner;
  /** The transport's: clock time before which no further attempt starts (the server's `grpc-retry-pushback-ms`). */
  notBefore = 0;
  /** Set when someone listens to meshlet's call or attempt channels (grpc-channels.ts). */
  watch: AttemptWatch | undefined = undefined;

  constructor(options: InterceptorOptions, nextCall: NextCall, metadata: Metadata, message: unknown, idempotent: boolean, owner: CallOwner, hashKey: string | undefined) {
    this.path = options.method_definition.path;
    this.options = options;
    this.attemptOptions = options.deadline === undefined ? options : { ...options, deadline: undefined };
    this.nextCall = nextCall;
    this.metadata = metadata;
    this.message = message;
    this.idempotent = idempotent;
    this.replayable = owner.stream === undefined;
    this.owner = owner;
    this.hashKey = hashKey;
  }

  /** The caller's cancel as a signal, made on the first ask (a waiting layer's: retry backoff). */
  cancelSignal(): AbortSignal | undefined {
    return this.owner.cancelSignal?.();
  }
}

/** No response body: a gRPC answer is its message, never read as a stream. */
const NO_BODY = null as unknown as ResponseBody;
/** No HTTP headers or trailers on an answer (its metadata is beside): one frozen object for every answer, not two per call. */
const NO_FIELDS = Object.freeze({}) as Record<string, string>;

export class GrpcResponse implements MeshResponse {
  readonly statusCode = 200;
  readonly statusText = 'OK';
  readonly headers = NO_FIELDS;
  readonly body = NO_BODY;
  readonly trailers = NO_FIELDS;
  readonly status: StatusObject;
  readonly message: unknown;
  /** The server's response metadata; undefined when it sent none before its status. */
  readonly metadata: Metadata | undefined;

  constructor(status: StatusObject, message: unknown, metadata: Metadata | undefined) {
    this.status = status;
    this.message = message;
    this.metadata = metadata;
  }
}
