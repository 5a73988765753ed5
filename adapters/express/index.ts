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
import { inboundMiddleware, meshOnExpressRequests } from '../../src/inbound/node-middleware.ts';
import { gateDispatch, isExpressRouter } from '../../src/inbound/router-dispatch.ts';

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
  const asLayer = inboundMiddleware(gate);
  let first = true;
  const middleware: RequestHandler = function meshletInbound(req, res, next) {
    if (first) {
      first = false;
      const app = (req as { app?: { request?: unknown } }).app;
      meshOnExpressRequests(app?.request);
      hoist(app, middleware, gate);
    }
    asLayer(req, res, next);
  };
  return Object.assign(middleware, { inbound: gate, shutdown: (server: Server) => shutdown(gate, server) });
}

/**
 * When the middleware is the first layer of its app's router on every path (`app.use(meshlet(mesh))`
 * first, as the README says), the gate moves out of the router's layer walk into its dispatch
 * (src/inbound/router-dispatch.ts), where it runs just as early. Anywhere else (after another
 * middleware, under a path, in an express.Router()) it stays the layer it is. Checked on the
 * first request the middleware sees.
 * NOTE: the router gets a new stack array without the layer, not the layer spliced out of the one
 * in use: a request in flight walks the array it started with by index (this first request, one
 * suspended in an async middleware), and a splice would make it skip a layer. Layers added later
 * (the routes) go onto the new array.
 */
function hoist(app: unknown, middleware: RequestHandler, gate: InboundHttp): void {
  const router = (app as { router?: unknown } | undefined)?.router;
  if (!isExpressRouter(router)) return;
  const layer = router.stack[0] as { handle?: unknown; route?: unknown; slash?: boolean } | undefined;
  // Express 5's router: `slash`, the layer matches every path (`app.use(fn)`, not `app.use('/api', fn)`).
  if (layer === undefined || layer.handle !== middleware || layer.slash !== true || layer.route !== undefined) return;
  router.stack = router.stack.slice(1);
  gateDispatch(router, gate);
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
