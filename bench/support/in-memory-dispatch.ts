/**
 * An in-memory answer in place of undici's sockets, for measuring only the JavaScript a call
 * costs (PERF.md, "the steadiest measure"). Over loopback a caller's CPU per call moves
 * 27–50 µs between rounds with the server process, the parser and the scheduler; meshlet's
 * own cost is a microsecond or two of that. Here every request still goes through undici's
 * own `Pool.request` front (argument checks, `RequestHandler`, the signal it registers) and
 * undici's own `Request` (header validation), and is answered with undici's own handler
 * callbacks and `BodyReadable`, but no socket, parser or second process is involved: each
 * request made in one event-loop turn is answered in the next `setImmediate` batch with the
 * head and body `tiny-server.ts` sends. Bare undici and meshlet both go through it alike.
 *
 * Installed by patching the dispatch step of undici's `Pool` (the one class both variants
 * dispatch on) in the calling process only.
 */
import { createRequire } from 'node:module';
import { Pool } from 'undici';

const require = createRequire(import.meta.url);

/** undici's internal request: what `Client` makes of the options before writing them. */
interface UndiciRequest {
  readonly aborted: boolean;
  readonly completed: boolean;
  onConnect(abort: (error: Error) => void): void;
  onResponseStarted(): void;
  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean | undefined;
  onData(chunk: Buffer): boolean | undefined;
  onComplete(trailers: Buffer[]): void;
  onError(error: Error): void;
}

const UndiciRequestClass = require('undici/lib/core/request.js') as new (origin: string, opts: unknown, handler: unknown) => UndiciRequest;
const { kDispatch } = require('undici/lib/core/symbols.js') as { kDispatch: symbol };

/** The head tiny-server.ts sends (node:http adds date, connection and keep-alive). */
const HEAD = ['content-type', 'text/plain', 'content-length', '2', 'date', new Date().toUTCString(), 'connection', 'keep-alive', 'keep-alive', 'timeout=60'];
const BODY = 'ok';

let batch: UndiciRequest[] = [];

function answerBatch(): void {
  const due = batch;
  batch = [];
  for (const request of due) answer(request);
}

function answer(request: UndiciRequest): void {
  if (request.aborted) return;
  // What undici's client does when a socket fails a request it aborted.
  request.onConnect((error) => {
    if (!request.aborted && !request.completed) request.onError(error);
  });
  if (request.aborted) return;
  request.onResponseStarted();
  // Fresh buffers, as the parser hands undici slices of what the socket read.
  request.onHeaders(200, HEAD.map((text) => Buffer.from(text)), noop, 'OK');
  if (request.aborted) return;
  request.onData(Buffer.from(BODY));
  if (request.aborted) return;
  request.onComplete([]);
}

function noop(): void {}

let installed = false;

/** From now on, every undici Pool in this process answers in memory. */
export function installInMemoryDispatch(): void {
  if (installed) return;
  installed = true;
  const prototype = Pool.prototype as unknown as Record<symbol, unknown>;
  prototype[kDispatch] = function dispatchInMemory(opts: unknown, handler: unknown): boolean {
    const request = new UndiciRequestClass('http://127.0.0.1', opts, handler);
    if (batch.length === 0) setImmediate(answerBatch);
    batch.push(request);
    return true;
  };
}
