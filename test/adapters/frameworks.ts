/**
 * The four ways the adapter matrix serves the same routes: Express, Fastify, Nest on Express
 * and Nest on Fastify, each a real server on 127.0.0.1 port 0 with meshlet's adapter in
 * front. A route answers GET and POST (a JSON body read by the framework's own parser, as
 * services do). A route is framework-free: it gets the mesh the framework exposes (req.mesh /
 * request.mesh, or Nest's injected one) and the request headers, and returns the JSON body
 * (200) or throws (a MeshError answers through the adapter's error mapping).
 */
import 'reflect-metadata';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { All, Controller, Module, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import Fastify from 'fastify';
import { meshErrors, meshlet as expressMeshlet } from '../../adapters/express/index.ts';
import { meshlet as fastifyMeshlet } from '../../adapters/fastify/index.ts';
import { MeshModule } from '../../adapters/nestjs/index.ts';
import type { Mesh, MeshResponse } from '../../src/index.ts';
import type { InboundOptions } from '../../src/inbound/inbound-http.ts';

export interface RouteContext {
  readonly mesh: Mesh;
  readonly headers: IncomingHttpHeaders;
}
export type Routes = Record<string, (context: RouteContext) => Promise<unknown>>;

export interface App {
  readonly url: string;
  readonly server: Server;
  /** The adapter's shutdown order (deregister, stop admitting, drain, close the mesh and the server). */
  shutdown(): Promise<void>;
}

export interface Framework {
  readonly name: string;
  start(mesh: Mesh, options: InboundOptions, routes: Routes): Promise<App>;
}

const urlOf = (server: Server): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

export const expressFramework: Framework = {
  name: 'express',
  async start(mesh, options, routes) {
    const app = express();
    const middleware = expressMeshlet(mesh, options);
    app.use(middleware);
    app.use(express.json());
    for (const [path, route] of Object.entries(routes)) {
      app.all(path, async (req, res) => {
        res.json(await route({ mesh: req.mesh, headers: req.headers }));
      });
    }
    app.use(meshErrors());
    const server = await new Promise<Server>((resolve) => {
      const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    return { url: urlOf(server), server, shutdown: () => middleware.shutdown(server) };
  },
};

export const fastifyFramework: Framework = {
  name: 'fastify',
  async start(mesh, options, routes) {
    const app = Fastify();
    await app.register(fastifyMeshlet, { mesh, ...options });
    for (const [path, route] of Object.entries(routes)) {
      app.route({ method: ['GET', 'POST'], url: path, handler: async (request) => route({ mesh: request.mesh, headers: request.headers }) });
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: urlOf(app.server), server: app.server, shutdown: () => app.meshlet.shutdown() };
  },
};

export function nestFramework(platform: 'express' | 'fastify'): Framework {
  return {
    name: `nest-${platform}`,
    async start(mesh, options, routes) {
      class RoutesController {}
      for (const [index, [path, route]] of Object.entries(routes).entries()) {
        const key = `route${index}`;
        Object.defineProperty(RoutesController.prototype, key, {
          value: (req: { mesh: Mesh; headers: IncomingHttpHeaders }) => route({ mesh: req.mesh, headers: req.headers }),
          writable: true,
          configurable: true,
        });
        Req()(RoutesController.prototype, key, 0);
        All(path)(RoutesController.prototype, key, Object.getOwnPropertyDescriptor(RoutesController.prototype, key)!);
      }
      Controller('/')(RoutesController);
      class AppModule {}
      Module({ imports: [MeshModule.forRoot({ mesh, ...options })], controllers: [RoutesController] })(AppModule);
      const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
      const app = await NestFactory.create(AppModule, adapter, { logger: false });
      await app.listen(0, '127.0.0.1');
      const server = app.getHttpServer() as Server;
      return { url: urlOf(server), server, shutdown: () => app.close() };
    },
  };
}

export const FRAMEWORKS: readonly Framework[] = [expressFramework, fastifyFramework, nestFramework('express'), nestFramework('fastify')];

/** A call's status, its body read to the end (an unread body holds its connection and its time limit). */
export async function statusOf(pending: Promise<MeshResponse>): Promise<number> {
  const res = await pending;
  await res.body.text();
  return res.statusCode;
}
