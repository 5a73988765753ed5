/**
 * The inbound gate as Node `(req, res, next)` middleware over IncomingMessage/ServerResponse:
 * Express uses it as is, and Nest on either platform (Nest hands its middleware the raw Node
 * objects on Fastify too). Fastify proper uses hooks instead (adapters/fastify).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type InboundHttp, type InboundRequest, isRefusal } from './inbound-http.ts';

export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

const INBOUND_REQUEST = Symbol('meshlet.inboundRequest');

/** The InboundRequest the middleware opened for `req` (Nest's interceptor re-enters it around the handler). */
export function inboundRequestOf(req: IncomingMessage): InboundRequest | undefined {
  return (req as unknown as Record<symbol, InboundRequest | undefined>)[INBOUND_REQUEST];
}

export function inboundMiddleware(gate: InboundHttp): NodeMiddleware {
  return function meshletInbound(req, res, next) {
    // NOTE: Express and Nest's Fastify middleware (middie) rewrite req.url under a mount; originalUrl is what came.
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    if (gate.isAdmin(url)) {
      gate.serveAdmin(req, res, url);
      return;
    }
    const inbound = gate.begin(req.headers);
    if (isRefusal(inbound)) {
      res.writeHead(inbound.status, inbound.headers).end(inbound.body);
      return;
    }
    (req as unknown as Record<symbol, InboundRequest>)[INBOUND_REQUEST] = inbound;
    endOnClose(inbound, res);
    inbound.run(next);
  };
}

/**
 * Ends the request when its response closes: 'close' comes once the response is sent, or when
 * the connection went first (then the calls made for it are aborted). It fires on every path,
 * a hijacked or never-sent response included, so the request's place is always freed.
 */
export function endOnClose(inbound: InboundRequest, res: ServerResponse): void {
  res.once('close', () => (res.writableFinished ? inbound.end() : inbound.abort()));
}
