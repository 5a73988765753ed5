/**
 * The Nest pieces MeshModule wires in, each a translation of src/inbound/ into Nest terms:
 * the middleware opens the inbound request (deadline, 504/429/503, admin mount) on the raw
 * Node objects both platforms hand it; on Fastify, a preHandler hook enters it again around the
 * handler (enterOnPreHandler); the filter answers an uncaught
 * MeshError; the lifecycle keeps the shutdown order.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Catch, type ExceptionFilter, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MeshError } from '../../src/core/errors.ts';
import type { Mesh } from '../../src/mesh/mesh.ts';
import { meshErrorResponse } from '../../src/inbound/error-response.ts';
import { InboundHttp } from '../../src/inbound/inbound-http.ts';
import { inboundMiddleware, inboundRequestOf, type NodeMiddleware } from '../../src/inbound/node-middleware.ts';

type WithMesh = { mesh?: Mesh; raw?: IncomingMessage };

export class MeshMiddleware {
  readonly #mesh: Mesh;
  readonly #inbound: NodeMiddleware;

  constructor(gate: InboundHttp) {
    this.#mesh = gate.mesh;
    this.#inbound = inboundMiddleware(gate);
  }

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    (req as WithMesh).mesh = this.#mesh;
    this.#inbound(req, res, next);
  }
}
Injectable()(MeshMiddleware);
Inject(InboundHttp)(MeshMiddleware, undefined, 0);

/**
 * On Nest's Fastify platform the middleware runs in Fastify's onRequest (middie), and the
 * handler after the body read and Fastify's own hooks, outside the context the middleware
 * entered: a preHandler hook enters it again (and sets `request.mesh` on Fastify's request).
 * On Express nothing is needed: the handler runs inside the middleware's next().
 *
 * NOTE: a Fastify hook, not a Nest interceptor: any global interceptor puts every request
 * through Nest's rxjs pipeline, the adapter's largest cost in a CPU profile (bench/adapters:
 * +25..30 µs of server CPU per request). Added while Nest builds its providers, before Fastify
 * is ready, so it applies to every route.
 */
export function enterOnPreHandler(host: HttpAdapterHost, mesh: Mesh): undefined {
  if (host.httpAdapter?.getType() !== 'fastify') return undefined;
  const fastify = host.httpAdapter.getInstance<{ addHook(name: 'preHandler', hook: (request: WithMesh, reply: unknown, next: () => void) => void): unknown }>();
  fastify.addHook('preHandler', (request, _reply, next) => {
    request.mesh = mesh;
    const inbound = request.raw === undefined ? undefined : inboundRequestOf(request.raw);
    if (inbound === undefined) next();
    else inbound.run(next);
  });
  return undefined;
}

export class MeshErrorFilter implements ExceptionFilter {
  readonly #host: HttpAdapterHost;

  constructor(host: HttpAdapterHost) {
    this.#host = host;
  }

  catch(error: MeshError, host: import('@nestjs/common').ArgumentsHost): void {
    const answer = meshErrorResponse(error);
    const adapter = this.#host.httpAdapter;
    const response = host.switchToHttp().getResponse();
    if (answer === undefined) return;
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
