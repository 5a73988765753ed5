/**
 * Real loopback HTTP backends for tests and benchmarks: port 0, keep-alive, and a record of
 * what each received so tests can count deliveries (exactly-once, retries, hedges).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The body exactly as received. */
  readonly raw: Buffer;
}

export type BackendHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

export interface Backend {
  /** `127.0.0.1:port`, the form meshlet's static endpoints take. */
  readonly address: string;
  readonly port: number;
  readonly url: string;
  readonly server: Server;
  /** Every request that arrived, body read in full, in arrival order. */
  readonly received: ReceivedRequest[];
  /** Requests whose connection closed before a response was sent (the client aborted). */
  aborted: number;
  close(): Promise<void>;
}

/** Answers 200 with `{ ok: true, port }` unless a handler says otherwise. */
export async function startBackend(handler?: BackendHandler): Promise<Backend> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, raw });
      res.on('close', () => {
        if (!res.writableFinished) backend.aborted++;
      });
      if (handler === undefined) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true, port: backend.port }));
        return;
      }
      Promise.resolve(handler(req, res, body)).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const backend: Backend = {
    address: `127.0.0.1:${port}`,
    port,
    url: `http://127.0.0.1:${port}`,
    server,
    received,
    aborted: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return backend;
}
