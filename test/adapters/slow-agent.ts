/**
 * A Consul agent that is slow to deregister: a loopback proxy in front of the emulator that
 * holds each deregistration for `holdMs` before passing it on, so a test can look at what a
 * service does while it is being taken out (it must still answer) without a 2 s hang.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowAgent {
  readonly url: string;
  /** Deregistrations received (held or passed on). */
  readonly deregistrations: number;
  /** Deregistrations the agent has answered. */
  readonly deregistered: number;
  close(): Promise<void>;
}

export async function startSlowAgent(target: string, holdMs: number): Promise<SlowAgent> {
  let received = 0;
  let answered = 0;
  const server = createServer((req, res) => {
    const deregistering = req.url?.includes('/deregister/') === true;
    if (deregistering) received++;
    const forward = (): void => {
      const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers, agent: false }, (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
        reply.on('end', () => {
          if (deregistering) answered++;
        });
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (deregistering) setTimeout(forward, holdMs);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get deregistrations() {
      return received;
    },
    get deregistered() {
      return answered;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
