/**
 * The inbound gate in an Express router's dispatch (`router.handle`), ahead of its layer walk, for
 * the Express adapter (meshlet first on every path) and Nest on Express (nothing but Nest's body
 * parsers before it): a layer of its own cost every request Express's walk over one more layer
 * (a path match, a match object, next() again, a params closure), about as much as the gate's own
 * work. The rest of the request runs in the inbound request's context, as from the layer's next().
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InboundHttp } from './inbound-http.ts';
import { openInbound } from './node-middleware.ts';

type Done = (error?: unknown) => void;
type Dispatch = (this: ExpressRouter, req: IncomingMessage, res: ServerResponse, done: Done) => void;

/** What an Express 5 router (the `router` package) is to the gate: its layers, its dispatch, its `use`. */
export interface ExpressRouter {
  stack: unknown[];
  handle: Dispatch;
  use(fn: (req: IncomingMessage, res: ServerResponse, next: Done) => void): unknown;
}

/** A router whose dispatch is the router package's own (not already wrapped by meshlet or anyone). */
export function isExpressRouter(value: unknown): value is ExpressRouter {
  if (typeof value !== 'function') return false;
  const router = value as Partial<ExpressRouter>;
  return Array.isArray(router.stack) && typeof router.handle === 'function' && typeof router.use === 'function' && !Object.hasOwn(value, 'handle');
}

export function gateDispatch(router: ExpressRouter, gate: InboundHttp): void {
  const dispatch = router.handle;
  router.handle = function meshletDispatch(req, res, done) {
    let inbound: ReturnType<typeof openInbound>;
    try {
      inbound = openInbound(gate, req, res);
    } catch (error) {
      dispatch.call(withFailingLayer(this, error), req, res, done);
      return;
    }
    inbound?.dispatchIn(dispatch, this, req, res, done);
  };
}

/**
 * The gate threw (the application's propagator): the request goes through the router with a first
 * layer that passes the error on, to the application's error middleware, as a throw in a layer
 * of the gate's own would. The router's own `use` makes that layer, on a copy that leaves the
 * router as it is.
 */
function withFailingLayer(router: ExpressRouter, error: unknown): ExpressRouter {
  const failing = Object.create(router, { stack: { value: [], writable: true } }) as ExpressRouter;
  failing.use((_req, _res, next) => next(error));
  failing.stack.push(...router.stack);
  return failing;
}
