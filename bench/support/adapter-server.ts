/**
 * One inbound server for bench/adapters.ts, in its own process so the load generator does not
 * share its CPU: `node adapter-server.ts <express|fastify|nest-express|nest-fastify> <bare|meshlet>`.
 * The route answers `{"ok":true}` and makes no call: what is measured is the adapter's own
 * cost on an inbound request (deadline header, context, admission off, trace extraction with
 * no SDK), against the same framework without it. `/cpu` answers this process's CPU time so
 * far (µs), so the bench can divide it by the requests served. Prints the port, runs until killed.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import Fastify from 'fastify';
import { meshlet as expressMeshlet } from '../../adapters/express/index.ts';
import { meshlet as fastifyMeshlet } from '../../adapters/fastify/index.ts';
import { MeshModule } from '../../adapters/nestjs/index.ts';
import { createMesh } from '../../src/index.ts';

const [framework, variant] = process.argv.slice(2);
const withMeshlet = variant === 'meshlet';
const mesh = await createMesh({ service: 'bench', config: { services: {} } });
const body = { ok: true };
const cpu = (): { us: number } => {
  const used = process.cpuUsage();
  return { us: used.user + used.system };
};

async function start(): Promise<Server> {
  if (framework === 'express') {
    const app = express();
    if (withMeshlet) app.use(expressMeshlet(mesh));
    app.get('/x', (_req, res) => {
      res.json(body);
    });
    app.get('/cpu', (_req, res) => {
      res.json(cpu());
    });
    return new Promise((resolve) => {
      const server: Server = app.listen(0, '127.0.0.1', () => resolve(server));
    });
  }
  if (framework === 'fastify') {
    const app = Fastify();
    if (withMeshlet) await app.register(fastifyMeshlet, { mesh });
    app.get('/x', async () => body);
    app.get('/cpu', async () => cpu());
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app.server;
  }
  class XController {
    x(): unknown {
      return body;
    }
    cpu(): unknown {
      return cpu();
    }
  }
  Get('/x')(XController.prototype, 'x', Object.getOwnPropertyDescriptor(XController.prototype, 'x')!);
  Get('/cpu')(XController.prototype, 'cpu', Object.getOwnPropertyDescriptor(XController.prototype, 'cpu')!);
  Controller('/')(XController);
  class AppModule {}
  Module({ imports: withMeshlet ? [MeshModule.forRoot({ mesh })] : [], controllers: [XController] })(AppModule);
  const app = await NestFactory.create(AppModule, framework === 'nest-fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return app.getHttpServer() as Server;
}

const server = await start();
process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
