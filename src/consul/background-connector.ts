/**
 * Sockets to the Consul agent never keep the process alive (issue 15): a watch holds a
 * blocking query open for a minute at a time, forever, and a script that created a mesh and
 * never called close() must still exit. undici unrefs an idle keep-alive socket but refs it
 * again while a request runs, which is all the time for a watch's socket; so these sockets
 * are unref'd at creation and their `ref()` is made a no-op.
 *
 * What keeps a process alive while it awaits a Consul request (a CLI push, the first read
 * of the control store) is that request's timeout timer, a call timer (see http.ts): the
 * decision is made per request, where it is known, not per socket.
 */
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

export function backgroundConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (target, callback) => {
    // NOTE: undici's connector returns the socket it is connecting (its types say void);
    // unref'ing it now keeps a connect to an unresponsive address from holding the process.
    const connecting: unknown = connect(target, (error, socket) => {
      if (socket) keepUnreferenced(socket);
      (callback as (...args: unknown[]) => void)(error, socket);
    });
    if (isSocket(connecting)) keepUnreferenced(connecting);
  };
}

function keepUnreferenced(socket: Socket): void {
  socket.unref();
  socket.ref = () => socket;
}

function isSocket(value: unknown): value is Socket {
  return typeof value === 'object' && value !== null && typeof (value as Socket).unref === 'function';
}
