/**
 * The demo's three stand-in instances of one service, on loopback: one healthy, one slow,
 * one that fails half its calls (and, for the Consul demo, any more started by name). Each
 * says who answered in `x-backend`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoBackend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  received: number;
  close(): Promise<void>;
}

type Behaviour = (respond: (status: number) => void) => void;

const behaviours = {
  healthy: (respond) => setTimeout(() => respond(200), 2 + Math.random() * 3),
  slow: (respond) => setTimeout(() => respond(200), 40 + Math.random() * 40),
  flaky: (respond) => setTimeout(() => respond(Math.random() < 0.5 ? 503 : 200), 2 + Math.random() * 3),
} satisfies Record<string, Behaviour>;

export type BehaviourName = keyof typeof behaviours;

export async function startDemoBackends(): Promise<DemoBackend[]> {
  return Promise.all(Object.entries(behaviours).map(([name, behaviour]) => start(name, behaviour)));
}

/** One more instance, named `name`, that behaves like the `behaviour` one. */
export function startDemoBackend(name: string, behaviour: BehaviourName): Promise<DemoBackend> {
  return start(name, behaviours[behaviour]);
}

async function start(name: string, behaviour: Behaviour): Promise<DemoBackend> {
  const server: Server = createServer((req, res) => {
    backend.received++;
    req.resume();
    behaviour((status) => {
      res.writeHead(status, { 'x-backend': name, 'content-type': 'application/json' });
      res.end(JSON.stringify({ backend: name, status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const backend: DemoBackend = {
    name,
    address: `127.0.0.1:${port}`,
    port,
    received: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return backend;
}
