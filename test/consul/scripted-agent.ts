/**
 * A loopback HTTP server that answers as each test scripts it: exact statuses, headers,
 * bodies, hangs and index sequences that no well-behaved agent (nor the emulator, on
 * purpose) produces, to test the client's and the watch's handling of each precisely.
 * Tests of Consul's semantics use the emulator (test/support/consul-emulator).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ScriptedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  /** Arrival time (performance.now()). */
  readonly at: number;
}

export type Script = (request: ScriptedRequest, res: ServerResponse) => void;

export interface ScriptedAgent {
  readonly url: string;
  readonly requests: ScriptedRequest[];
  /** Replaces how the agent answers. */
  answer(script: Script): void;
  /** Requests that arrived and are not answered (hung) right now. */
  readonly open: number;
  close(): Promise<void>;
}

/** Answers JSON with Consul's query-meta headers. */
export function json(res: ServerResponse, body: unknown, index: bigint | number | string | undefined, status = 200): void {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-consul-knownleader': 'true', 'x-consul-lastcontact': '0' };
  if (index !== undefined) headers['x-consul-index'] = String(index);
  res.writeHead(status, headers).end(body === undefined ? '' : JSON.stringify(body));
}

export function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
}

export async function startScriptedAgent(script: Script = (_req, res) => json(res, [], 1)): Promise<ScriptedAgent> {
  let current = script;
  const requests: ScriptedRequest[] = [];
  const sockets = new Set<Socket>();
  let open = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://agent');
      const request: ScriptedRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks), at: performance.now() };
      requests.push(request);
      open++;
      res.on('close', () => open--);
      current(request, res);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      current = next;
    },
    get open() {
      return open;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
