/**
 * meshlet/nestjs: `MeshModule.forRoot({ mesh, upstreams, ...inbound options })` or
 * `forRootAsync({ useFactory, inject, upstreams })` (Nest's ConfigurableModuleBuilder), on
 * Nest's Express and Fastify platforms alike. Upstream clients are injectable by name
 * (`@InjectUpstream('payments')`, or `InjectUpstream('payments')(Class, undefined, 0)` without
 * decorator syntax), the mesh by `@InjectMesh()`. Every mesh call a handler makes inherits the
 * inbound request's deadline, cancellation and trace; an uncaught MeshError answers
 * 504/503/502. Shutdown (app.close(), or a signal with enableShutdownHooks()): deregister while
 * still answering, stop admitting and drain (beforeApplicationShutdown), Nest closes the
 * server, then the mesh closes (onApplicationShutdown). Policy lives in src/inbound/.
 *
 * NOTE: decorators are applied as functions: Node runs this TypeScript by type stripping.
 */
import 'reflect-metadata';
import { ConfigurableModuleBuilder, type DynamicModule, Inject, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { createMesh, Mesh, type MeshOptions } from '../../src/mesh/mesh.ts';
import { InboundHttp, type InboundOptions } from '../../src/inbound/inbound-http.ts';
import { addFastifyHooks, MeshErrorFilter, MeshLifecycle, useNodeMiddleware } from './providers.ts';
import { MESH, upstreamToken } from './tokens.ts';

export { MESH, upstreamToken } from './tokens.ts';

export interface MeshModuleOptions extends InboundOptions {
  /** createMesh()'s options, or a mesh made elsewhere; the module closes it on shutdown either way. */
  mesh: MeshOptions | Mesh;
}

interface MeshModuleExtras {
  /** The upstream services to make injectable with InjectUpstream(name). */
  upstreams: string[];
  /** Whether MESH and the upstreams are injectable in every module (default true). */
  isGlobal: boolean;
}

const built = new ConfigurableModuleBuilder<MeshModuleOptions>({ moduleName: 'Mesh' })
  .setClassMethodName('forRoot')
  .setExtras<MeshModuleExtras>({ upstreams: [], isGlobal: true }, (definition: DynamicModule, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [
      ...(definition.providers ?? []),
      ...extras.upstreams.map((name) => ({ provide: upstreamToken(name), useFactory: (mesh: Mesh) => mesh.client(name), inject: [MESH] })),
    ],
    exports: [...(definition.exports ?? []), MESH, ...extras.upstreams.map(upstreamToken)],
  }))
  .build();

export const MESH_MODULE_OPTIONS = built.MODULE_OPTIONS_TOKEN;

/** The provider that adds meshlet's Fastify hooks on Nest's Fastify platform (its value is nothing). */
const FASTIFY_HOOKS = Symbol('meshlet:fastifyHooks');

/** Injects the client for one upstream service named in `upstreams`: `InjectUpstream('payments')(Class, undefined, 0)`. */
export function InjectUpstream(name: string): ReturnType<typeof Inject> {
  return Inject(upstreamToken(name));
}

/** Injects the Mesh itself. */
export function InjectMesh(): ReturnType<typeof Inject> {
  return Inject(MESH);
}

export class MeshModule extends built.ConfigurableModuleClass implements NestModule {
  readonly #host: HttpAdapterHost;
  readonly #gate: InboundHttp;

  constructor(host: HttpAdapterHost, gate: InboundHttp) {
    super();
    this.#host = host;
    this.#gate = gate;
  }

  configure(): void {
    useNodeMiddleware(this.#host, this.#gate);
  }
}

Module({
  providers: [
    { provide: MESH, useFactory: (options: MeshModuleOptions) => (options.mesh instanceof Mesh ? options.mesh : createMesh(options.mesh)), inject: [MESH_MODULE_OPTIONS] },
    { provide: InboundHttp, useFactory: (mesh: Mesh, options: MeshModuleOptions) => new InboundHttp(mesh, options), inject: [MESH, MESH_MODULE_OPTIONS] },
    MeshLifecycle,
    { provide: FASTIFY_HOOKS, useFactory: addFastifyHooks, inject: [HttpAdapterHost, InboundHttp] },
    { provide: APP_FILTER, useClass: MeshErrorFilter },
  ],
  exports: [MESH, InboundHttp],
})(MeshModule);
Inject(HttpAdapterHost)(MeshModule, undefined, 0);
Inject(InboundHttp)(MeshModule, undefined, 1);
