/**
 * meshlet/express: Express 5 middleware. `app.use(meshlet(mesh, options))` first, and every
 * `mesh.client()` call a handler makes inherits what is left of the inbound request's deadline,
 * its cancellation and its trace; `req.mesh` is the mesh. `app.use(meshErrors())` after the
 * routes answers an uncaught MeshError as 504/503/502. `middleware.shutdown(server)` is the
 * shutdown order: deregister, stop admitting, drain, close the mesh and the server.
 * All policy lives in src/inbound/; this file only translates.
 */
import type { Server } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Mesh } from '../../src/mesh/mesh.ts';
import { meshErrorResponse } from '../../src/inbound/error-response.ts';
import { InboundHttp, type InboundOptions } from '../../src/inbound/inbound-http.ts';
import { inboundMiddleware } from '../../src/inbound/node-middleware.ts';

export type { InboundOptions as MeshletExpressOptions } from '../../src/inbound/inbound-http.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** The mesh: `req.mesh.client('payments')`. */
    mesh: Mesh;
  }
}

export interface MeshletMiddleware extends RequestHandler {
  /** Deregisters (still answering), stops admitting, stops accepting connections, drains, closes the mesh, then the server. */
  shutdown(server: Server): Promise<void>;
  /** The shared inbound gate (requests being served, the shutdown steps one by one). */
  readonly inbound: InboundHttp;
}

export function meshlet(mesh: Mesh, options: InboundOptions = {}): MeshletMiddleware {
  const gate = new InboundHttp(mesh, options);
  const middleware: RequestHandler = inboundMiddleware(gate);
  return Object.assign(middleware, { inbound: gate, shutdown: (server: Server) => shutdown(gate, server) });
}

/** Error middleware: an uncaught MeshError becomes its HTTP answer (a deadline 504, an unavailable dependency 503); anything else goes on. */
export function meshErrors(): ErrorRequestHandler {
  return (error, _req, res, next) => {
    const answer = meshErrorResponse(error);
    if (answer === undefined || res.headersSent) return next(error);
    res.status(answer.status).set(answer.headers).send(answer.body);
  };
}

async function shutdown(gate: InboundHttp, server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    if (!server.listening) resolve();
    else server.once('close', () => resolve());
  });
  await gate.shutdown(() => {
    server.close();
    server.closeIdleConnections();
  });
  // Whatever the drain bound left behind (a handler that never answers) goes now.
  server.closeAllConnections();
  await closed;
}
