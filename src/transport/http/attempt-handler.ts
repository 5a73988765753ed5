/**
 * meshlet's own undici dispatch handler: one per attempt on the wire, in place of the
 * `RequestHandler` that `Dispatcher.request` makes. It does what that handler does (undici's
 * own `BodyReadable` for the body, headers parsed by undici, the callback run in the
 * caller's async context) and one thing differently: cancellation. undici's handler
 * registers on the signal it is given (two closures, and a second `close` listener on the
 * body that turns its listener list into an array every `emit` copies, ~0.2 µs and ~0.5 KB
 * per call, PERF.md). This one is told by the attempt directly (`AbortHook`) and aborts
 * through the `abort` undici hands it in `onConnect`, and it lets the attempt go when the
 * body is destroyed (every body is, when read to the end too), so nothing is registered.
 */
import { AsyncResource } from 'node:async_hooks';
import type { Readable } from 'node:stream';
import type { AbortHook, Attempt } from '../../core/attempt.ts';
import type { MeshRequest, MeshResponse, Reply } from '../../core/service.ts';
import { failed, tell } from './attempt-end.ts';
import { toTransportFailure } from './errors.ts';
import { type Headers, MeshBody, noop, type UndiciAbort, undiciUtil as util } from './response-body.ts';

/** The signal the request follows: the armed attempt, or (no attempt layer) the attempt's own signal. */
type Cancel = Attempt | AbortSignal;

export class AttemptHandler extends AsyncResource implements AbortHook {
  // What undici reads as the request's dispatch options (`Dispatcher.DispatchOptions`): the
  // handler is its own options object, so an attempt on the wire is one object, not two.
  // Read when undici makes its Request (at once, or when a pool that had no free connection
  // dequeues it), never changed.
  readonly path: string;
  readonly method: string;
  readonly headers: MeshRequest['headers'] | string[];
  readonly body: MeshRequest['body'];
  readonly attempt: Attempt;
  readonly #cancel: Cancel | undefined;
  #reply: Reply | undefined;
  #requestBody: MeshRequest['body'];
  #abort: UndiciAbort | undefined = undefined;
  #body: MeshBody | undefined = undefined;
  readonly #trailers: Headers = {};

  /** `headers` is the request's headers as undici is to read them (transport.ts). */
  constructor(attempt: Attempt, request: MeshRequest, headers: MeshRequest['headers'] | string[], reply: Reply) {
    super('MESHLET_ATTEMPT');
    this.path = request.path;
    this.method = request.method;
    this.headers = headers;
    this.body = request.body;
    this.attempt = attempt;
    this.#requestBody = request.body;
    this.#reply = reply;
    if (attempt.armed) {
      this.#cancel = attempt;
      attempt.hook(this);
    } else {
      const signal = attempt.signal;
      this.#cancel = signal;
      signal?.addEventListener('abort', this, { once: true });
    }
  }

  /** The attempt aborted (its time limit, the caller, a hedge race): the request or its body goes. */
  attemptAborted(): void {
    const reason = this.#cancel?.reason;
    const body = this.#body;
    if (body !== undefined) util.destroy(body.on('error', noop), reason);
    else this.#abort?.(reason);
  }

  /** The attempt's own signal aborted (a stack without the attempt layer). */
  handleEvent(): void {
    this.attemptAborted();
  }

  /** The request is over (its body destroyed, or it failed): nothing may abort it any more. */
  release(): void {
    const cancel = this.#cancel;
    if (cancel === this.attempt) this.attempt.release();
    else (cancel as AbortSignal | undefined)?.removeEventListener('abort', this);
  }

  // undici's handler interface (lib/core/request.js calls these).
  onConnect(abort: UndiciAbort): void {
    if (this.#cancel?.aborted) {
      abort(this.#cancel.reason);
      return;
    }
    this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true;
    const headers = util.parseHeaders(rawHeaders);
    const contentLength = headers['content-length'];
    const body = new MeshBody(
      { resume, abort: this.#abort, contentType: headers['content-type'], contentLength: this.method !== 'HEAD' && contentLength ? Number(contentLength) : null },
      this,
    );
    this.#body = body;
    const reply = this.#reply!;
    this.#reply = undefined;
    const attempt = this.attempt;
    attempt.responded = true;
    // Shaped as undici's ResponseData, `opaque` as its callers see it when they set none.
    const response = { statusCode, statusText, headers, trailers: this.#trailers, opaque: null, body, context: undefined } as unknown as MeshResponse;
    tell(attempt, response, undefined);
    try {
      this.runInAsyncScope(reply.resolve, reply, response);
    } catch (bug) {
      // As undici's handler: the body goes and the bug surfaces off undici's stack.
      this.#body = undefined;
      util.destroy(body.on('error', noop), bug);
      queueMicrotask(() => {
        throw bug;
      });
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.#body!.push(chunk);
  }

  onComplete(rawTrailers: Buffer[]): void {
    if (rawTrailers.length > 0) util.parseHeaders(rawTrailers, this.#trailers);
    this.#body!.push(null);
  }

  onError(error: Error): void {
    const reply = this.#reply;
    if (reply !== undefined) {
      this.#reply = undefined;
      // As undici's handler: never called back from inside dispatch().
      queueMicrotask(() => this.runInAsyncScope(this.#failed, this, reply, error));
    }
    const body = this.#body;
    if (body !== undefined) {
      this.#body = undefined;
      queueMicrotask(() => util.destroy(body.on('error', noop), error));
    }
    const requestBody = this.#requestBody;
    this.#requestBody = null;
    if (util.isStream(requestBody)) util.destroy((requestBody as Readable).on('error', noop), error);
  }

  #failed(reply: Reply, error: Error): void {
    const attempt = this.attempt;
    this.release();
    reply.reject(failed(attempt, toTransportFailure(error, this.#cancel, attempt.endpoint!.address.id, attempt.call.service)));
  }
}
