/**
 * HTTP plumbing: the loopback listener, routing, the request log, fault hooks, and Consul's
 * wire conventions (HTTPGO `wrap`/`setMeta`): `X-Consul-Default-Acl-Policy` on every answer,
 * query-meta headers on reads (Go-canonical names, as real captures show them), 405 with
 * `Allow`, the unknown-path 404 body, plain-text error bodies. `stop()` drops every connection
 * so the agent looks dead; `start()` listens again on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Acl } from './acl.ts';
import { requestToken } from './acl.ts';
import type { Exchange, Reply, Route } from './exchange.ts';
import type { Faults } from './faults.ts';
import { HttpError } from './http-error.ts';

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  /** The query string without `?` and without any `token` parameter. */
  readonly query: string;
  /** Whether the request carried a token (its value is never kept). */
  readonly token: boolean;
}

export interface ServerOptions {
  readonly routes: readonly Route[];
  readonly acl: Acl;
  readonly faults: Faults;
}

const UNKNOWN_PATH = 'Invalid URL path: not a recognized HTTP API endpoint\n';

export class EmulatorServer {
  readonly requests: LoggedRequest[] = [];
  readonly #options: ServerOptions;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor(options: ServerOptions) {
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  get listening(): boolean {
    return this.#server !== undefined;
  }

  /** Listens on `port` (0 = any the first time; later starts reuse the first port). */
  async start(port = this.#port): Promise<void> {
    if (this.#server !== undefined) return;
    const server = createServer((req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Closes the listener and destroys every connection, parked and hung requests included. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const aborter = new AbortController();
      res.on('close', () => aborter.abort());
      this.#dispatch(req, res, Buffer.concat(chunks), aborter.signal).catch((error: unknown) => {
        this.#write(res, errorReply(error), false);
      });
    });
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse, body: Buffer, signal: AbortSignal): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const params = url.searchParams;
    const token = requestToken(params, req.headers);
    this.requests.push({ method, path: url.pathname, query: withoutToken(params), token: token !== undefined });
    const pretty = params.has('pretty');

    const fault = this.#options.faults.take();
    if (fault?.kind === 'hang') return; // answered never; stop() destroys the socket
    if (fault?.kind === 'fail') {
      this.#write(res, { status: fault.status, text: fault.body }, pretty);
      return;
    }

    const match = route(this.#options.routes, url.pathname);
    if (match === undefined) {
      this.#write(res, { status: 404, text: UNKNOWN_PATH }, pretty);
      return;
    }
    const allowed = Object.keys(match.route.methods);
    if (method === 'OPTIONS') {
      this.#write(res, { status: 200, headers: { Allow: ['OPTIONS', ...allowed].join(',') } }, pretty);
      return;
    }
    const handler = match.route.methods[method];
    if (handler === undefined) {
      this.#write(res, { status: 405, text: `method ${method} not allowed`, headers: { Allow: allowed.join(',') } }, pretty);
      return;
    }
    let reply: Reply;
    try {
      refuseUnemulated(url.pathname, params);
      const identity = this.#options.acl.resolve(token);
      const rawQuery = url.search.startsWith('?') ? url.search.slice(1) : url.search;
      const exchange: Exchange = { method, rest: match.rest, params, rawQuery, body, identity, signal };
      reply = await handler(exchange);
    } catch (error) {
      reply = errorReply(error);
    }
    if (!signal.aborted) this.#write(res, reply, pretty);
  }

  #write(res: ServerResponse, reply: Reply, pretty: boolean): void {
    if (res.headersSent || res.destroyed) return;
    res.statusCode = reply.status ?? 200;
    res.setHeader('Vary', 'Accept-Encoding');
    res.setHeader('X-Consul-Default-Acl-Policy', this.#options.acl.defaultPolicy);
    if (reply.index !== undefined) {
      if (reply.consistency !== undefined) res.setHeader('X-Consul-Effective-Consistency', reply.consistency);
      res.setHeader('X-Consul-Index', String(this.#options.faults.zeroIndex ? 0 : Math.max(1, reply.index)));
      res.setHeader('X-Consul-Knownleader', 'true');
      res.setHeader('X-Consul-Lastcontact', '0');
    }
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    let payload: Buffer | undefined;
    if (reply.json !== undefined) {
      payload = Buffer.from(pretty ? `${JSON.stringify(reply.json, null, 4)}\n` : JSON.stringify(reply.json));
      res.setHeader('Content-Type', reply.contentType ?? 'application/json');
    } else if (reply.raw !== undefined) {
      payload = reply.raw;
      res.setHeader('Content-Type', reply.contentType ?? 'text/plain');
    } else if (reply.text !== undefined) {
      payload = Buffer.from(reply.text);
      res.setHeader('Content-Type', reply.contentType ?? 'text/plain; charset=utf-8');
    } else if (reply.contentType !== undefined) {
      res.setHeader('Content-Type', reply.contentType);
    }
    res.setHeader('Content-Length', String(payload?.length ?? 0));
    res.end(payload);
  }
}

function route(routes: readonly Route[], path: string): { route: Route; rest: string } | undefined {
  for (const candidate of routes) {
    if (candidate.prefix ? path.startsWith(candidate.path) : path === candidate.path) {
      return { route: candidate, rest: decodeURIComponent(path.slice(candidate.path.length)) };
    }
  }
  return undefined;
}

/** Endpoints that forward to a datacenter's servers (agent endpoints answer locally and ignore `dc`). */
const DATACENTER_SCOPED = /^\/v1\/(kv|health|catalog|config)(\/|$)/;

/**
 * Answers what a real agent would refuse, and refuses what the emulator does not implement,
 * rather than quietly ignoring a parameter a test might rely on: an unknown `dc` is Consul's
 * 500 `No path to datacenter`; `filter` (bexpr) is not emulated.
 */
function refuseUnemulated(path: string, params: URLSearchParams): void {
  if (!DATACENTER_SCOPED.test(path)) return;
  const dc = params.get('dc');
  if (dc !== null && dc !== '' && dc !== 'dc1') throw new HttpError(500, 'No path to datacenter');
  if (params.has('filter')) throw new HttpError(500, 'the Consul emulator does not implement ?filter (bexpr); filter the response in the test instead');
}

function errorReply(error: unknown): Reply {
  if (error instanceof HttpError) return { status: error.status, text: error.message, headers: error.headers };
  return { status: 500, text: error instanceof Error ? error.message : String(error) };
}

function withoutToken(params: URLSearchParams): string {
  const copy = new URLSearchParams(params);
  copy.delete('token');
  return copy.toString();
}
