/**
 * The inbound gate as Node `(req, res, next)` middleware over IncomingMessage/ServerResponse:
 * Express uses it as is, and Nest on its Express platform. It sees that `req.mesh` is the gate's
 * mesh. Fastify (and Nest on Fastify) use hooks instead (adapters/fastify/hooks.ts); both end a
 * request through `endOnClose`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Mesh } from '../mesh/mesh.ts';
import { type InboundHttp, type InboundRequest, isRefusal } from './inbound-http.ts';

export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export function inboundMiddleware(gate: InboundHttp): NodeMiddleware {
  return function meshletInbound(req, res, next) {
    const inbound = openInbound(gate, req, res);
    if (inbound !== undefined) inbound.continueIn(next);
  };
}

/**
 * What the gate does before the rest of the request runs: serves the admin mount or a refusal
 * (undefined: answered), else opens the inbound request, ended on the response's close, and sees
 * that `req.mesh` is the gate's mesh. The caller runs the rest of the request in it (`continueIn`).
 */
export function openInbound(gate: InboundHttp, req: IncomingMessage, res: ServerResponse): InboundRequest | undefined {
  // NOTE: Express rewrites req.url under a mount; originalUrl is what came.
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  if (gate.isAdmin(url)) {
    (req as WithMesh).mesh = gate.mesh;
    gate.serveAdmin(req, res, url);
    return undefined;
  }
  const inbound = gate.begin(req.headers);
  if (isRefusal(inbound)) {
    res.writeHead(inbound.status, inbound.headers).end(inbound.body);
    return undefined;
  }
  endOnClose(inbound, res);
  // NOTE: after endOnClose: on Express (and Nest on Express) the request prototype's getter
  // (meshOnExpressRequests) reads the mesh from the response's inbound request, and then there
  // is nothing to store.
  if ((req as WithMesh).mesh !== gate.mesh) (req as WithMesh).mesh = gate.mesh;
  return inbound;
}

type WithMesh = IncomingMessage & { mesh?: Mesh };

/**
 * `req.mesh` as a getter on Express's own request prototype (`express.request`, the prototype of
 * every app's `app.request`), for the Express adapter and Nest on Express: the mesh of the gate the
 * request's response passed, read from the inbound request the gate put on that response, so a
 * request pays no property store for it (+0.3..0.6 µs a request measured inside Express, README).
 * It is Express's base prototype, not the app's, because a mounted sub-app, or an app called as a
 * plain function, swaps the request's prototype for its own (`subApp.request`), which inherits
 * from the base too (from the same copy of Express: an app of another copy has a base of its own,
 * without the getter). A request no gate opened reads undefined, as before; another app's gate
 * with another mesh puts its own inbound request on its responses, so its requests read that mesh;
 * only a second gate with another mesh on a response that already has one stores its own
 * (openInbound); `req.mesh = x` makes an own property of that request only.
 * Installed from an app's own `app.request`: by the Express adapter on its first request, by Nest
 * on Express when the module is configured.
 * NOTE: left alone when the base already has a `mesh` (the application's own, or this getter).
 */
export function meshOnExpressRequests(appRequest: unknown): void {
  if (appRequest === null || typeof appRequest !== 'object') return;
  const base: unknown = Object.getPrototypeOf(appRequest);
  if (base === null || typeof base !== 'object' || base === Object.prototype || 'mesh' in base) return;
  Object.defineProperty(base, 'mesh', {
    configurable: true,
    get(this: { res?: WithInbound }): Mesh | undefined {
      return this.res?.[INBOUND_REQUEST]?.mesh;
    },
    set(this: object, value: unknown) {
      Object.defineProperty(this, 'mesh', { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

const INBOUND_REQUEST = Symbol('meshlet.inboundRequest');
type WithInbound = ServerResponse & { [INBOUND_REQUEST]?: InboundRequest };

/**
 * Ends the request when its response closes: 'close' comes once the response is sent, or when
 * the connection went first (then the calls made for it are aborted). It fires on every path,
 * a hijacked or never-sent response included, so the request's place is always freed.
 * NOTE: one listener function for every response, which finds its request on the response:
 * no closure and no `once` wrapper per request ('close' comes once anyway).
 */
export function endOnClose(inbound: InboundRequest, res: ServerResponse): void {
  // NOTE: the client may have left while a middleware or hook before the gate awaited
  // something: 'close' came already, and a listener added now would never run.
  if (res.closed) {
    settle(inbound, res);
    return;
  }
  const withInbound = res as WithInbound;
  // NOTE: a response can pass a second gate (the middleware mounted again in a sub-app or a
  // router): that one gets a listener of its own, or the first gate's request never ended.
  if (withInbound[INBOUND_REQUEST] !== undefined) {
    res.once('close', () => settle(inbound, res));
    return;
  }
  withInbound[INBOUND_REQUEST] = inbound;
  res.on('close', closed);
}

function closed(this: WithInbound): void {
  settle(this[INBOUND_REQUEST]!, this);
}

function settle(inbound: InboundRequest, res: ServerResponse): void {
  if (res.writableFinished) inbound.end();
  else inbound.abort();
}
