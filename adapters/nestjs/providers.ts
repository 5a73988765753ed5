/**
 * The Nest pieces MeshModule wires in, each a translation of src/inbound/ into Nest terms:
 * the gate opens the inbound request (deadline, 504/429/503, admin mount) as Fastify hooks or
 * Express middleware; the filter answers an uncaught MeshError on HTTP; the lifecycle keeps
 * the shutdown order.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Catch, type ExceptionFilter, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MeshError } from '../../src/core/errors.ts';
import { meshErrorResponse } from '../../src/inbound/error-response.ts';
import { InboundHttp } from '../../src/inbound/inbound-http.ts';
import { inboundMiddleware, meshOnExpressRequests, type NodeMiddleware } from '../../src/inbound/node-middleware.ts';
import { addInboundHooks } from '../fastify/hooks.ts';

/**
 * Opens the inbound request on each platform by that platform's cheapest means, not through
 * Nest's middleware consumer: on Fastify, meshlet's Fastify hooks (adapters/fastify/hooks.ts),
 * added while Nest builds its providers, before Fastify is ready and before middie; on Express,
 * the Node middleware added to Express itself from MeshModule.configure(), which Nest calls
 * after its body parser and before any route or Nest middleware. The handler then runs inside
 * the middleware's next() (Express) or the preHandler hook (Fastify).
 *
 * NOTE: not Nest middleware (`consumer.apply(...).forRoutes('*path')`): on Express it went
 * through a path-matched router layer and Nest's middleware proxy on every request; on Fastify
 * through middie; nor a global interceptor, which puts every request through Nest's rxjs
 * pipeline (bench/adapters: +25..30 µs of server CPU per request).
 */
export function addFastifyHooks(host: HttpAdapterHost, gate: InboundHttp): undefined {
  if (host.httpAdapter?.getType() === 'fastify') addInboundHooks(host.httpAdapter.getInstance<FastifyInstance>(), gate);
  return undefined;
}

/**
 * MeshModule.configure()'s part on Express (and any platform that takes Node middleware).
 * NOTE: `req.mesh` is set on each request, not once on the app's request prototype
 * (`app.request`): an Express app the request passes through as a plain function (a legacy
 * app in a middleware, `consumer.apply(subApp)`) swaps the request's prototype for its own and
 * leaves it so, and the mesh vanished from every handler after it; a platform's `request` need
 * not be its requests' prototype either. The prototype saved no heap measurably (9b49b93).
 * The gate runs where a middleware added now would (after Nest's body parsers, before any
 * route), but inside the last parser's layer, as what that parser calls next: a router layer
 * of its own cost every request Express's layer walk (a match object, a params closure, the
 * debug call), and Nest on Express paid that on top of what the gate itself does. When the
 * last layer is not one of Nest's parsers on every path (bodyParser: false, a middleware the
 * application added first, or its own parser on a path), the gate is a middleware of its own.
 */
export function useNodeMiddleware(host: HttpAdapterHost, gate: InboundHttp): void {
  const adapter = host.httpAdapter;
  if (adapter === undefined || adapter.getType() === 'fastify') return;
  const app = adapter.getInstance() as { router?: { stack?: unknown }; request?: unknown };
  // `req.mesh` read through Express's request prototype, not stored on every request (node-middleware.ts).
  meshOnExpressRequests(app.request);
  const middleware = inboundMiddleware(gate);
  const parser = lastLayerIfParser(app.router?.stack);
  if (parser === undefined) adapter.use(middleware);
  else parser.handle = gateAfter(parser.handle, middleware);
}

type Handle = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
interface Layer {
  handle: Handle;
  route?: unknown;
  /** Express 5's router: the layer matches every path (`app.use(fn)`, not `app.use('/api', fn)`). */
  slash?: boolean;
}

/** NOTE: Nest names its parsers so (ExpressAdapter.registerParserMiddleware), and finds them by that name. */
const NEST_PARSERS = new Set(['jsonParser', 'urlencodedParser']);

function lastLayerIfParser(stack: unknown): Layer | undefined {
  if (!Array.isArray(stack) || stack.length === 0) return undefined;
  const last = stack[stack.length - 1] as Partial<Layer> | undefined;
  const handle = last?.handle;
  // NOTE: only a parser on every path: an application's own `app.use('/api', express.json())`
  // (bodyParser: false, or Nest skipping a parser it finds applied) would gate only /api.
  if (typeof handle !== 'function' || handle.length !== 3 || last!.route !== undefined || last!.slash !== true || !NEST_PARSERS.has(handle.name)) return undefined;
  return last as Layer;
}

/**
 * The parser, then (unless it failed) the gate, whose next() is the parser's.
 * NOTE: a parser calls next() from its body stream's 'end' when it read a body, outside the
 * layer's try/catch: a throw there (a propagator's, say) would be an uncaught exception, so it
 * goes to next(error) as a layer of its own would send it.
 */
function gateAfter(parse: Handle, gate: NodeMiddleware): Handle {
  const handle: Handle = (req, res, next) => {
    parse(req, res, (error) => {
      if (error) {
        next(error);
        return;
      }
      try {
        gate(req, res, next);
      } catch (thrown) {
        next(thrown);
      }
    });
  };
  // Nest tells whether a parser is applied by its handle's name (isMiddlewareApplied).
  Object.defineProperty(handle, 'name', { value: parse.name });
  return handle;
}

export class MeshErrorFilter implements ExceptionFilter {
  readonly #host: HttpAdapterHost;

  constructor(host: HttpAdapterHost) {
    this.#host = host;
  }

  /**
   * NOTE: HTTP only. In another context (a microservice's 'rpc' in a hybrid app that inherits
   * the app's global filters, a gateway's 'ws') there is no HTTP response to write, and
   * switchToHttp() hands back the transport's own arguments: it returns nothing and touches
   * nothing, so Nest's default handling of that context applies as if the filter were not there
   * (its RPC handler falls back to the base filter when a filter returns nothing).
   */
  catch(error: MeshError, host: import('@nestjs/common').ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const answer = meshErrorResponse(error);
    if (answer === undefined) return;
    const adapter = this.#host.httpAdapter;
    const response = host.switchToHttp().getResponse();
    for (const [name, value] of Object.entries(answer.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, answer.body, answer.status);
  }
}
Catch(MeshError)(MeshErrorFilter);
Injectable()(MeshErrorFilter);
Inject(HttpAdapterHost)(MeshErrorFilter, undefined, 0);

/** Deregister while still answering, stop admitting and drain before Nest closes the server; close the mesh after. */
export class MeshLifecycle {
  readonly #gate: InboundHttp;

  constructor(gate: InboundHttp) {
    this.#gate = gate;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.#gate.deregister();
    this.#gate.stopAdmitting();
    await this.#gate.drained();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.#gate.closeMesh();
  }
}
Injectable()(MeshLifecycle);
Inject(InboundHttp)(MeshLifecycle, undefined, 0);
