/**
 * The Nest pieces MeshModule wires in, each a translation of src/inbound/ into Nest terms:
 * the middleware opens the inbound request (deadline, 504/429/503, admin mount) on the raw
 * Node objects both platforms hand it; on Fastify, the interceptor runs the handler inside it
 * (Nest binds the handler's async context where `next.handle()` is called); the filter answers an uncaught
 * MeshError; the lifecycle keeps the shutdown order.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CallHandler, Catch, type ExceptionFilter, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { MeshError } from '../../src/core/errors.ts';
import type { Mesh } from '../../src/mesh/mesh.ts';
import { meshErrorResponse } from '../../src/inbound/error-response.ts';
import { InboundHttp } from '../../src/inbound/inbound-http.ts';
import { inboundMiddleware, inboundRequestOf, type NodeMiddleware } from '../../src/inbound/node-middleware.ts';
import { MESH } from './tokens.ts';

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

export class MeshInterceptor implements NestInterceptor {
  readonly #mesh: Mesh;

  constructor(mesh: Mesh) {
    this.#mesh = mesh;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<WithMesh & IncomingMessage>();
    request.mesh = this.#mesh;
    const inbound = inboundRequestOf(request.raw ?? request);
    return inbound === undefined ? next.handle() : inbound.run(() => next.handle());
  }
}
Injectable()(MeshInterceptor);
Inject(MESH)(MeshInterceptor, undefined, 0);

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
