/**
 * meshlet/fastify: a Fastify 5 plugin (fastify-plugin, name 'meshlet', fastify 5.x), so its
 * hooks and decorators reach the whole app. `app.register(meshlet, { mesh, ...options })`:
 * every `mesh.client()` call a handler makes inherits what is left of the inbound request's
 * deadline, its cancellation and its trace; `request.mesh` is the mesh; an uncaught MeshError
 * answers 504/503/502 instead of 500. `app.meshlet.shutdown()` is the shutdown order
 * (deregister while answering, stop admitting, then `app.close()` drains and closes the mesh).
 * All policy lives in src/inbound/; this file and hooks.ts only translate it into Fastify hooks.
 */
import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Mesh } from '../../src/mesh/mesh.ts';
import { meshErrorResponse, meshErrorStatus } from '../../src/inbound/error-response.ts';
import { InboundHttp, type InboundOptions } from '../../src/inbound/inbound-http.ts';
import { addInboundHooks } from './hooks.ts';

export interface MeshletFastifyOptions extends InboundOptions {
  mesh: Mesh;
}

export interface MeshletFastify {
  /** Deregisters (still answering and admitting), stops admitting, then closes the app: Fastify drains, the mesh closes. */
  shutdown(): Promise<void>;
  /** The shared inbound gate (requests being served, the shutdown steps one by one). */
  readonly inbound: InboundHttp;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The mesh: `request.mesh.client('payments')`. */
    mesh: Mesh;
  }
  interface FastifyInstance {
    meshlet: MeshletFastify;
  }
}

const plugin: FastifyPluginCallback<MeshletFastifyOptions> = (app: FastifyInstance, options, done) => {
  const { mesh } = options;
  const gate = new InboundHttp(mesh, options);
  app.decorate('meshlet', {
    inbound: gate,
    shutdown: async () => {
      await gate.deregister();
      gate.stopAdmitting();
      await app.close();
    },
  });
  addInboundHooks(app, gate);
  // onError runs before the error handler, whose default answers reply.statusCode: a
  // MeshError's is its HTTP meaning, unless the handler chose a status of its own.
  app.addHook('onError', (_request, reply, error, next) => {
    const status = meshErrorStatus(error);
    if (status !== undefined && (reply.statusCode === 200 || reply.statusCode === 500)) reply.code(status);
    next();
  });
  // app.close() without shutdown(): out of Consul before the server stops (Fastify already
  // answers 503 then), then the mesh closes once Fastify has drained.
  app.addHook('preClose', (next) => {
    gate.stopAdmitting();
    gate.deregister().then(() => next());
  });
  app.addHook('onClose', (_instance, next) => {
    gate.drained().then(() => gate.closeMesh()).then(() => next(), next);
  });
  done();
};

/**
 * An error handler (`app.setErrorHandler(meshErrors())`) that answers an uncaught MeshError
 * with `{ error: code, message }` as the other adapters do; anything else goes on to the
 * handler before it. Without it the onError hook above still sets the status, but Fastify's
 * default handler sends the error's own message, which names services and endpoints.
 * NOTE: not set by the plugin: an error handler set from a plugin sits in the app's root
 * scope, where the application's own setErrorHandler would then warn (FSTWRN004) or throw.
 */
export function meshErrors(): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (error, _request, reply) => {
    const answer = meshErrorResponse(error);
    if (answer === undefined) throw error;
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  };
}

export const meshlet = fp(plugin, { name: 'meshlet', fastify: '5.x' });
export default meshlet;
