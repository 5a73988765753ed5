/**
 * Two types carry every behaviour in meshlet (tower's Service/Layer, Finagle's
 * Service/Filter): a `Service` turns a request into a response, a `Layer` wraps one Service
 * in another. Timeouts, retries, the breaker and the balancer are all layers; the order they
 * are stacked in is declared once, in `src/stack/client-stack.ts`.
 */
import type { Blob } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Attempt } from './attempt.ts';

export type RequestBody = string | Buffer | Uint8Array | Readable | null;

/** One logical call as it travels down the stack. Layers treat it as read-only. */
export interface MeshRequest {
  readonly method: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
  /** The caller's headers, passed through untouched (names lower-cased). */
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: RequestBody;
  /** Safe to send more than once (RFC 9110 method, `idempotent: true` or an Idempotency-Key). */
  readonly idempotent: boolean;
  /** False for a streamed body: it cannot be sent twice. */
  readonly replayable: boolean;
  readonly hashKey: string | undefined;
  /**
   * A signal the caller's cancel aborts, for a request whose caller can cancel without a
   * `call.signal` (a gRPC call: grpc-request.ts makes it only when asked). A layer that waits
   * (the retry backoff) asks for it when it starts waiting, so a default call pays nothing.
   */
  cancelSignal?(): AbortSignal | undefined;
}

/**
 * RFC 9110's idempotent methods (upper-case): safe to resend whatever the caller says. NOTE: a
 * switch, not a Set: every call asks, and the method is nearly always one of these literals,
 * which a switch matches by identity before it compares characters.
 */
export function isIdempotentMethod(method: string): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'PUT':
    case 'DELETE':
    case 'TRACE':
      return true;
    default:
      return false;
  }
}

/** The headers of a call that set none: one frozen object, so layers can tell at a glance. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A response body as callers and layers use it: a Readable with the fetch-style body mixin.
 * Defined here so the stack does not depend on the HTTP client library; the HTTP
 * transport's body satisfies it as it is (no copy, no wrapper), and so does an in-process
 * one (synthetic-response.ts).
 */
export interface ResponseBody extends Readable {
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  blob(): Promise<Blob>;
  /** True once the body was read (or dumped). */
  readonly bodyUsed: boolean;
  /** Reads and discards the body (up to `limit` bytes) so its connection can be reused. */
  dump(opts?: { limit: number; signal?: AbortSignal }): Promise<void>;
}

/** Shaped as the HTTP transport's responses (DESIGN §1), so it hands them over as they come. */
export interface MeshResponse {
  statusCode: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: ResponseBody;
  trailers: Record<string, string>;
}

/**
 * `attempt` is the call's current attempt: the layers above the retry layer get the first one
 * and read its `call` (the logical call); the retry layer and the hedge race start the others.
 */
export interface Service<Req = MeshRequest, Res = MeshResponse> {
  call(request: Req, attempt: Attempt): Promise<Res>;
  /**
   * The same call in callback form: the result goes to `reply` (once, never by throwing).
   * Offered only by a service whose whole chain below offers it (the layers that never wait:
   * deadline, the retry layer's first try, attempt, balancer, and the HTTP transport), so a
   * default stack runs a call on the client's one promise, with no promise and no closure per
   * layer (PERF.md: each promise reaction and async hop between the caller and undici costs
   * CPU per call). A layer that waits (breaker, limits, fault, hedge) offers `call` only, and
   * the layers above it then use `call`.
   */
  readonly send?: ((request: Req, attempt: Attempt, reply: Reply<Res>) => void) | undefined;
}

/** Where the callback form of a call delivers its result: one of the two, once. */
export interface Reply<Res = MeshResponse> {
  resolve(response: Res): void;
  reject(error: unknown): void;
  /**
   * Offered by a reply that can judge the call's first try itself (the client's per-call
   * object, mesh/client-call.ts): it takes `judge` with the try's request and attempt and, when
   * the try ends, asks `judge` before it settles, so the retry layer makes no reply of its own
   * per call. True when taken (once per reply); a reply without it gets one made.
   */
  judgeFirstTry?(judge: FirstTryJudge, request: MeshRequest, first: Attempt): boolean;
}

/** What judges a call's first try in the callback form (the retry layer): final, or on to the retries. */
export interface FirstTryJudge {
  /** True when the first try's response goes back to the caller as it is. */
  isFinal(first: Attempt, response: MeshResponse): boolean;
  /** Goes on from a first try that failed or needs a retry; the call's result goes to `reply`. */
  retryAfterFirst(request: MeshRequest, first: Attempt, response: MeshResponse | undefined, error: unknown, reply: Reply): void;
}

export interface Layer<Req = MeshRequest, Res = MeshResponse> {
  /** Shown in state and traces; also the key in the declared stack. */
  readonly name: string;
  /** Returns `inner` itself when this layer's feature is not configured. */
  wrap(inner: Service<Req, Res>): Service<Req, Res>;
  /** Plain JSON for `mesh.state()` (breaker state, budget, limits); absent when stateless. */
  state?(): unknown;
  /** The mesh is closing: refuse calls still waiting to be admitted with `reason` (calls running go on). */
  stopAdmitting?(reason: Error): void;
  /** Releases timers and connections; called when the service's config changes or the mesh closes. */
  close?(): Promise<void>;
}

/** Something that holds sockets or timers. */
export interface Closeable {
  close(): Promise<void>;
}
