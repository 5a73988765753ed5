/**
 * The inbound gate as Fastify hooks, for the meshlet plugin and for Nest on Fastify alike
 * (Nest's middleware runs through middie, which costs more per request than the gate itself):
 * `onRequest` opens the inbound request (admin mount, 504/429/503, deadline, cancellation,
 * trace) and runs the rest of the request in its context; `preHandler` enters it again only
 * when a body read in between left it (the body arrives on the socket's events, outside the
 * context onRequest entered), so a request without a body enters it once.
 * `request.mesh` is a getter on Fastify's request prototype: nothing to set per request.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InboundHttp, InboundRequest } from '../../src/inbound/inbound-http.ts';
import { isRefusal } from '../../src/inbound/inbound-http.ts';
import { endOnClose } from '../../src/inbound/node-middleware.ts';

/** Where each request's InboundRequest is kept (a decorator, initialised to null). */
const INBOUND = 'meshletInbound';
type WithInbound = FastifyRequest & { [INBOUND]: InboundRequest | null };

export function addInboundHooks(app: FastifyInstance, gate: InboundHttp): void {
  const { mesh } = gate;
  app.decorateRequest('mesh', {
    getter() {
      return mesh;
    },
  });
  app.decorateRequest(INBOUND, null);
  app.addHook('onRequest', (request, reply, next) => {
    if (gate.isAdmin(request.url)) {
      reply.hijack();
      gate.serveAdmin(request.raw, reply.raw, request.url);
      return;
    }
    const inbound = gate.begin(request.headers);
    if (isRefusal(inbound)) {
      reply.code(inbound.status).headers(inbound.headers).send(inbound.body);
      return;
    }
    (request as WithInbound)[INBOUND] = inbound;
    // NOTE: not onResponse/onRequestAbort: onRequestAbort fires only while the body is unread
    // (Fastify checks req.aborted), onResponse only when a response finished, so a client gone
    // after its body was read aborted nothing and its place was never freed.
    endOnClose(inbound, reply.raw);
    inbound.continueIn(next);
  });
  app.addHook('preHandler', (request, _reply, next) => {
    const inbound = (request as WithInbound)[INBOUND];
    if (inbound === null) next();
    else inbound.continueIn(next);
  });
}
