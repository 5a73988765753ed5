/**
 * What every framework adapter does with an inbound HTTP request, in one place, so the
 * adapters (adapters/express, adapters/fastify, adapters/nestjs) only translate:
 * - its deadline: `x-meshlet-timeout-ms` or `grpc-timeout`, else the service's default, clipped
 *   to its ceiling; a request whose deadline has passed is answered 504 before its handler runs;
 * - its cancellation: the client going away aborts the calls made for it;
 * - its trace context, through the OpenTelemetry propagator (trace-context.ts);
 * - admission: a rate (429) or concurrency (503) limit, with Retry-After (admission.ts);
 * - the shutdown order (DESIGN §1): deregister while still answering, stop admitting, drain
 *   the requests in flight, then close the mesh.
 * Calls the handler makes inside `InboundRequest.run` inherit what is left of the deadline
 * and the trace; meshlet's own AsyncLocalStorage (core/call-context.ts) carries it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Context, context } from '@opentelemetry/api';
import { currentInbound, enterInbound, type InboundContext } from '../core/call-context.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { MeshError } from '../core/errors.ts';
import type { Mesh } from '../mesh/mesh.ts';
import { InboundAdmission, type Refusal, refusal } from './admission.ts';
import { type InboundHeaders, timeLeftFromHeaders } from './deadline-headers.ts';
import { type InboundOptions, type InboundPolicy, inboundPolicy } from './inbound-options.ts';
import { inboundTraceContext } from './trace-context.ts';

export type { InboundOptions } from './inbound-options.ts';
export type { Refusal } from './admission.ts';

const EXPIRED = refusal(504, 'MESH_TIMEOUT', 'the request reached its deadline before this service started on it (x-meshlet-timeout-ms or grpc-timeout)');
const STOPPING = refusal(503, 'MESH_CLOSED', 'this instance is shutting down; retry on another one', 1, { connection: 'close' });

/**
 * One inbound request being served: run its handler in it, and end or abort it once. It is
 * itself the InboundContext the deadline layer reads.
 *
 * NOTE: the AbortSignal is made on first read (a call made for the request), not per request:
 * an AbortController's signal costs about as much as the rest of the request's bookkeeping,
 * and most handlers of a busy service make no call, or none before they answer. Likewise the
 * trace context is entered only when the propagator read one from the headers (with no SDK, or
 * no traceparent, there is nothing to enter), and the context once per request (`continueIn`).
 */
export class InboundRequest implements InboundContext {
  readonly deadline: number;
  readonly #gate: InboundHttp;
  /** The caller's trace context, or undefined when it is the active context already. */
  readonly #trace: Context | undefined;
  #controller: AbortController | undefined;
  /** Whether the request was cancelled before anyone asked for its signal (the error is made on that read, if any). */
  #cancelled = false;
  #open = true;

  constructor(gate: InboundHttp, deadline: number, trace: Context | undefined) {
    this.#gate = gate;
    this.deadline = deadline;
    this.#trace = trace;
  }

  /** The mesh of the gate that opened it (`req.mesh` on Express reads it here: node-middleware.ts meshOnExpressRequests). */
  get mesh(): Mesh {
    return this.#gate.mesh;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#cancelled) this.#controller.abort(cancelled());
    }
    return this.#controller.signal;
  }

  /** Runs `fn` (the handler, or the framework's `next`) with the request's deadline, cancellation and trace context. */
  run<T>(fn: () => T): T {
    if (this.#trace === undefined) return enterInbound(this, fn);
    return context.with(this.#trace, enterInbound<T>, undefined, this, fn);
  }

  /**
   * Calls a framework's `next` (the rest of the request, the handler included) in the request's
   * context, and not again when it is the context already (a hook after the one that entered it).
   * NOTE: around `next`, restored after it (`run`), not entered for the rest of the running
   * callback (`enterWith`, one context frame fewer on Node 24): with the AsyncLocalStorage on
   * async_hooks (Node 22's default) that context stayed on the connection's parser, so the next
   * request on a keep-alive connection started in it, and on any Node the code that dispatched
   * the request from an async loop stayed in it (test/adapters/context-scope.test.ts).
   */
  continueIn(next: () => void): void {
    if (currentInbound() === this) next();
    else this.run(next);
  }

  /**
   * `dispatch.call(self, req, res, done)` in the request's context (`continueIn` for a framework
   * entry that takes arguments), without a closure per request: the arguments wait in module
   * slots for the synchronous call `run` makes at once, and are cleared before it goes on.
   */
  dispatchIn<S, A, B, C>(dispatch: (this: S, a: A, b: B, c: C) => void, self: S, a: A, b: B, c: C): void {
    pendingDispatch = dispatch as Dispatch;
    pendingSelf = self;
    pendingA = a;
    pendingB = b;
    pendingC = c;
    this.run(dispatchPending);
  }

  /** The response is done (sent, or the framework gave up on it): frees its place. Idempotent. */
  end(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#gate.released();
  }

  /** The client went away before the response was sent: the calls made for it are aborted. */
  abort(): void {
    if (!this.#open) return;
    if (this.#controller === undefined) this.#cancelled = true;
    else this.#controller.abort(cancelled());
    this.end();
  }
}

type Dispatch = (this: unknown, a: unknown, b: unknown, c: unknown) => void;
let pendingDispatch: Dispatch | undefined;
let pendingSelf: unknown;
let pendingA: unknown;
let pendingB: unknown;
let pendingC: unknown;

/** NOTE: reads and clears the slots before it calls on, so a dispatch made inside (a sub-app's) fills them anew. */
function dispatchPending(): void {
  const dispatch = pendingDispatch!;
  const self = pendingSelf;
  const a = pendingA;
  const b = pendingB;
  const c = pendingC;
  pendingDispatch = pendingSelf = pendingA = pendingB = pendingC = undefined;
  dispatch.call(self, a, b, c);
}

function cancelled(): MeshError {
  return new MeshError('MESH_ABORTED', 'the inbound request was cancelled: its client closed the connection before the response was sent');
}

export function isRefusal(value: InboundRequest | Refusal): value is Refusal {
  return !(value instanceof InboundRequest);
}

export class InboundHttp {
  readonly mesh: Mesh;
  readonly #policy: InboundPolicy;
  readonly #clock: Clock;
  readonly #admission: InboundAdmission | undefined;
  #serving = 0;
  #admitting = true;
  #drainedWaiter: (() => void) | undefined;

  constructor(mesh: Mesh, options: InboundOptions = {}, clock: Clock = systemClock) {
    this.mesh = mesh;
    this.#policy = inboundPolicy(mesh, options);
    this.#clock = clock;
    this.#admission = this.#policy.limits === undefined ? undefined : new InboundAdmission(this.#policy.limits, clock);
  }

  /** The inbound request, or the answer it gets without its handler running (504, 429, 503). */
  begin(headers: InboundHeaders): InboundRequest | Refusal {
    if (!this.#admitting) return STOPPING;
    const policy = this.#policy;
    const sent = timeLeftFromHeaders(headers);
    const left = Math.min(sent ?? policy.defaultTimeoutMs, policy.maxTimeoutMs);
    if (left <= 0) return EXPIRED;
    // NOTE: read before the request is admitted and counted: the application's propagator may
    // throw, and a request counted then would never end (its place held, the drain waiting).
    const trace = inboundTraceContext(headers);
    if (this.#admission !== undefined) {
      const refused = this.#admission.admit(this.#serving);
      if (refused !== undefined) return refused;
    }
    this.#serving++;
    return new InboundRequest(this, left === Number.POSITIVE_INFINITY ? left : this.#clock.now() + left, trace);
  }

  /** Whether `url` is under the admin handler's mount (always false when none is configured). */
  isAdmin(url: string): boolean {
    const path = this.#policy.admin?.path;
    if (path === undefined || !url.startsWith(path)) return false;
    const next = url.charCodeAt(path.length);
    return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
  }

  /**
   * Serves an admin request, outside deadlines and limits (an operator needs the page most when
   * the service sheds). The mount itself redirects to its directory form (`/_meshlet` →
   * `/_meshlet/`), where the dashboard's relative links (./state.json) resolve under it.
   */
  serveAdmin(req: IncomingMessage, res: ServerResponse, url: string): void {
    const admin = this.#policy.admin!;
    const next = url.charCodeAt(admin.path.length);
    if (next === 47) {
      // The handler reads the page from req.url, which a framework's mount may have rewritten.
      req.url = url;
      admin.handler(req, res);
      return;
    }
    res.writeHead(308, { location: `${admin.path}/${url.slice(admin.path.length)}` }).end();
  }

  /** NOTE: called by InboundRequest.end once per request. */
  released(): void {
    this.#serving--;
    if (this.#serving === 0) this.#drainedWaiter?.();
  }

  /** Requests being served now. */
  get serving(): number {
    return this.#serving;
  }

  /** Shutdown, step 1: out of Consul while still answering and admitting (bounded, never rejects). */
  deregister(): Promise<void> {
    return this.mesh.deregister();
  }

  /** Shutdown, step 2: new requests get 503 with `Connection: close` and Retry-After. */
  stopAdmitting(): void {
    this.#admitting = false;
  }

  /** Shutdown, step 3: resolves once no request is being served, or when the drain bound passed. */
  drained(): Promise<void> {
    if (this.#serving === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#clock.setCallTimer(done, this.#policy.drainTimeoutMs);
      function done(): void {
        timer.cancel();
        resolve();
      }
      const previous = this.#drainedWaiter;
      this.#drainedWaiter = () => {
        previous?.();
        done();
      };
    });
  }

  /** The whole order for a framework that leaves it to us: deregister, stop admitting, drain, close the mesh. */
  async shutdown(stopAccepting?: () => void): Promise<void> {
    await this.deregister();
    this.stopAdmitting();
    stopAccepting?.();
    await this.drained();
    await this.closeMesh();
  }

  /** Shutdown, last step: the admin page stops collecting, the mesh closes (drains its own calls). */
  closeMesh(): Promise<void> {
    this.#policy.admin?.handler.close();
    return this.mesh.close();
  }
}
