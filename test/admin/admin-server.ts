/**
 * A bare loopback HTTP server around an admin handler, for the admin tests. `peer` makes the
 * handler see another client address: the tests cannot open a connection from a non-loopback
 * host, so the real request's socket gets an own `remoteAddress` that shadows the real one
 * (the handler reads only that; headers such as X-Forwarded-For stay the client's own).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ControlListener, ControlStore } from '../../src/control/control-store.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `handler` for every request under `prefix` (the rest gets the server's own 404). */
export async function startAdminServer(handler: Handler, options: { prefix?: string; peer?: string } = {}): Promise<AdminServer> {
  const prefix = options.prefix ?? '';
  const server = createServer((req, res) => {
    if (options.peer !== undefined) Object.defineProperty(req.socket, 'remoteAddress', { value: options.peer, configurable: true });
    if (req.url?.startsWith(`${prefix}/`)) return handler(req, res);
    res.statusCode = 404;
    res.end('outside the admin prefix');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A control store the test pushes documents through (a push the mesh refuses shows on the page). */
export function manualStore(): ControlStore & { push(document: unknown): void } {
  let listener: ControlListener | undefined;
  return {
    source: 'test-store',
    watch: async (l) => {
      listener = l;
    },
    close: async () => {},
    push: (document) => listener?.snapshot(document),
  };
}
