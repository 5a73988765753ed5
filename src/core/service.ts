/**
 * Two types carry every behaviour in meshlet (tower's Service/Layer, Finagle's
 * Service/Filter): a `Service` turns a request into a response, a `Layer` wraps one Service
 * in another. Timeouts, retries, the breaker and the balancer are all layers; the order they
 * are stacked in is declared once, in `src/stack/client-stack.ts`.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { CallContext } from './call-context.ts';

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
}

/** The headers of a call that set none: one frozen object, so layers can tell at a glance. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** undici-shaped: `statusCode`, `headers`, and a body with `.json()`, `.text()`, `.dump()`. */
export type MeshResponse = Dispatcher.ResponseData;

export interface Service<Req = MeshRequest, Res = MeshResponse> {
  call(request: Req, ctx: CallContext): Promise<Res>;
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
