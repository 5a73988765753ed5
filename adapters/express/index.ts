/**
 * meshlet/express: Express 5 middleware. `app.use(meshlet(mesh, options))` first, and every
 * `mesh.client()` call a handler makes inherits what is left of the inbound request's deadline,
 * its cancellation and its trace; `req.mesh` is the mesh. `app.use(meshErrors())` after the
 * routes answers an uncaught MeshError as 504/503/502. `middleware.shutdown(server)` is the
 * shutdown order: deregister, stop admitting, drain, close the mesh and the server.
 * All policy lives in src/inbound/; this file only translates.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Mesh } from '../../src/mesh/mesh.ts';
import { meshErrorResponse } from '../../src/inbound/error-response.ts';
import { InboundHttp, type InboundOptions } from '../../src/inbound/inbound-http.ts';
import { inboundMiddleware, openInbound } from '../../src/inbound/node-middleware.ts';

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
      hoist((req as { app?: unknown }).app, middleware, gate);
    }
    asLayer(req, res, next);
  };
  return Object.assign(middleware, { inbound: gate, shutdown: (server: Server) => shutdown(gate, server) });
}

type Done = (error?: unknown) => void;
type Dispatch = (this: Router, req: IncomingMessage, res: ServerResponse, done: Done) => void;
interface Layer {
  handle: unknown;
  route?: unknown;
  /** Express 5's router: the layer matches every path (`app.use(fn)`, not `app.use('/api', fn)`). */
  slash?: boolean;
}
interface Router {
  stack: Layer[];
  handle: Dispatch;
}

/**
 * When the middleware is the first layer of its app's router on every path (`app.use(meshlet(mesh))`
 * first, as the README says), the gate moves out of the router's layer walk into the router's
 * dispatch itself, where it runs just as early: a layer of its own cost every request Express's
 * walk over one more layer (a path match, a match object, next() again, a params closure), about
 * as much as the gate's own work. Anywhere else (after another middleware, under a path, in an
 * express.Router()) it stays the layer it is. Checked on the first request the middleware sees.
 * NOTE: the router gets a new stack array without the layer, not the layer spliced out of the one
 * in use: a request in flight walks the array it started with by index (this first request, one
 * suspended in an async middleware), and a splice would make it skip a layer. Layers added later
 * (the routes) go onto the new array.
 */
function hoist(app: unknown, middleware: RequestHandler, gate: InboundHttp): void {
  const router = (app as { router?: Partial<Router> } | undefined)?.router;
  const stack = router?.stack;
  if (!Array.isArray(stack) || typeof router!.handle !== 'function' || Object.hasOwn(router!, 'handle')) return;
  const layer = stack[0];
  if (layer === undefined || layer.handle !== middleware || layer.slash !== true || layer.route !== undefined) return;
  const routed = router as Router;
  const dispatch = routed.handle;
  routed.stack = stack.slice(1);
  routed.handle = function meshletDispatch(req, res, done) {
    let inbound: ReturnType<typeof openInbound>;
    try {
      inbound = openInbound(gate, req, res);
    } catch (error) {
      // The gate threw (the application's propagator): the request goes through the router with
      // a first layer that passes the error on, to the application's error middleware, as a
      // throw in the gate's own layer would.
      const failing = Object.create(layer, { handle: { value: (_req: unknown, _res: unknown, next: Done) => next(error) } }) as Layer;
      dispatch.call(Object.create(this, { stack: { value: [failing, ...this.stack] } }) as Router, req, res, done);
      return;
    }
    inbound?.dispatchIn(dispatch, this, req, res, done);
  };
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
