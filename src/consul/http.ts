/**
 * One request to the Consul agent: the X-Consul-Token header, the timeout (longer for a
 * blocking query), keep-alive decided per request, and every way it can fail turned into a
 * MESH_CONSUL_FAILED that says what to do (failures.ts). The client (client.ts) builds
 * Consul's endpoints on top of this and never sees a socket or a status code it did not ask for.
 */
import { Agent } from 'undici';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { MeshError } from '../core/errors.ts';
import { backgroundConnector } from './background-connector.ts';
import { blockingTimeoutMs } from './duration.ts';
import { type FailedRequest, scrubber, statusFailure, timedOut, unreachable } from './failures.ts';

/** Consul's plain-text error bodies are a line; more than this is not worth echoing. */
const ERROR_BODY_BYTES = 1024;

export interface ConsulHttpOptions {
  /** The agent's origin, without credentials. */
  readonly origin: string;
  readonly token: string | undefined;
  readonly ca: string | Buffer | undefined;
  readonly clock: Clock;
  /** How long any answer may take once Consul starts answering. */
  readonly requestTimeoutMs: number;
  /** Where the token comes from, for ACL messages. */
  readonly tokenHint: string;
}

export interface ConsulRequest {
  readonly method: 'GET' | 'PUT' | 'DELETE';
  /** Already encoded, e.g. `/v1/kv/meshlet`. */
  readonly path: string;
  readonly query?: URLSearchParams;
  readonly body?: string | Buffer;
  /** The body is JSON (a registration); KV values are opaque bytes and go without a type. */
  readonly json?: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Set for a blocking query (index > 0): Consul may hold it this long. */
  readonly blockingWaitMs?: number | undefined;
  /** Nobody awaits it (a watch's round): its timer never keeps the process alive. */
  readonly background?: boolean;
  /** Statuses that are answers here, not failures (404 for a missing key). */
  readonly accept?: readonly number[];
}

export interface ConsulReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** For a decoding failure's message. */
  readonly failed: FailedRequest;
}

/** Parameters that change every round of a watch: left out of messages so they read the same each round. */
const VOLATILE_PARAMETERS = new Set(['index', 'wait']);

export class ConsulHttp {
  readonly #options: ConsulHttpOptions;
  readonly #agent: Agent;
  readonly #scrub: (text: string) => string;
  #closed = false;

  constructor(options: ConsulHttpOptions) {
    this.#options = options;
    this.#scrub = scrubber(options.token);
    this.#agent = new Agent({
      connect: backgroundConnector(options.ca === undefined ? {} : { ca: options.ca }),
      // NOTE: the timeout below bounds every request, blocking ones included (up to 10m40s);
      // undici's own 300 s header and body timeouts would cut a long blocking query.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async send(request: ConsulRequest): Promise<ConsulReply> {
    const failed = this.#describe(request);
    if (this.#closed) throw new MeshError('MESH_CLOSED', `the Consul client for ${this.#options.origin} is closed; ${failed.request} was not sent`);
    const blocking = request.blockingWaitMs !== undefined;
    const timeoutMs = blocking ? blockingTimeoutMs(request.blockingWaitMs, this.#options.requestTimeoutMs) : this.#options.requestTimeoutMs;
    const controller = new AbortController();
    let timedOutNow = false;
    const onTimeout = (): void => {
      timedOutNow = true;
      controller.abort();
    };
    // A blocking query, or a read marked `background` (a watch's plain-read round), is
    // background work; anything else is a call someone awaits (a CLI push, the first read at
    // start-up), and its timer keeps the process alive until it settles: the sockets never
    // do (background-connector.ts).
    const clock = this.#options.clock;
    const timer: TimerHandle = blocking || request.background === true ? clock.setTimer(onTimeout, timeoutMs) : clock.setCallTimer(onTimeout, timeoutMs);
    const onCallerAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      if (request.signal?.aborted) controller.abort();
      const response = await this.#agent.request({
        origin: this.#options.origin,
        path: request.query === undefined || request.query.size === 0 ? request.path : `${request.path}?${request.query}`,
        method: request.method,
        headers: this.#headers(request),
        body: request.body ?? null,
        signal: controller.signal,
      });
      const accepted = (response.statusCode >= 200 && response.statusCode < 300) || request.accept?.includes(response.statusCode) === true;
      if (!accepted) throw statusFailure(failed, response.statusCode, await readBounded(response.body, ERROR_BODY_BYTES));
      const body = Buffer.from(await response.body.arrayBuffer());
      return { status: response.statusCode, headers: response.headers, body, failed };
    } catch (error) {
      if (error instanceof MeshError) throw error;
      if (timedOutNow) throw timedOut(failed, timeoutMs, blocking);
      if (request.signal?.aborted) {
        throw new MeshError('MESH_ABORTED', `${failed.request} to Consul at ${failed.address} was aborted by its caller; nothing to do unless that was unexpected`, {
          cause: request.signal.reason,
        });
      }
      if (this.#closed) throw new MeshError('MESH_CLOSED', `the Consul client for ${this.#options.origin} was closed while ${failed.request} was in flight`, { cause: error });
      throw unreachable(failed, error);
    } finally {
      timer.cancel();
      request.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  /** Ends every request in flight (they reject with MESH_CLOSED) and the agent's sockets. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agent.destroy();
  }

  #headers(request: ConsulRequest): Record<string, string> {
    const headers: Record<string, string> = {};
    // NOTE: the header, never `?token=`: a query string ends up in access logs and messages.
    if (this.#options.token !== undefined && this.#options.token !== '') headers['x-consul-token'] = this.#options.token;
    if (request.json === true) headers['content-type'] = 'application/json';
    return headers;
  }

  #describe(request: ConsulRequest): FailedRequest {
    const shown = new URLSearchParams();
    for (const [name, value] of request.query ?? []) if (!VOLATILE_PARAMETERS.has(name)) shown.append(name, value);
    // Presence flags (`recurse`, `stale`) read better bare: `?recurse`, as Consul's docs write them.
    const query = shown.size === 0 ? '' : `?${shown.toString().replace(/=(?=&|$)/g, '')}`;
    return {
      address: this.#options.origin,
      request: this.#scrub(`${request.method} ${request.path}${query}`),
      tokenSent: this.#options.token !== undefined && this.#options.token !== '',
      tokenHint: this.#options.tokenHint,
      scrub: this.#scrub,
    };
  }
}

/** At most `limit` bytes of an error body, as text; the rest is discarded with the stream. */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } catch {
    // A body that broke off: the status alone still says what failed.
  } finally {
    body.destroy();
  }
  const text = Buffer.concat(chunks).subarray(0, limit).toString('utf8');
  return size > limit ? `${text}…` : text;
}
