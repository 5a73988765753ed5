/**
 * The inbound servers for bench/adapters.ts, each in a process of its own so the load generator
 * does not share its CPU. The route answers `{"ok":true}` and makes no call: what is measured is
 * the adapter's own cost on an inbound request (deadline header, context, admission off, trace
 * extraction with no SDK), against the same framework without it. Two modes:
 * - `node adapter-server.ts <express|fastify|nest-express|nest-fastify> <bare|meshlet>`: listens on
 *   loopback and prints the port; `/cpu` answers this process's CPU time so far (µs), so the
 *   bench can divide it by the requests served. Runs until killed.
 * - `node adapter-server.ts <framework> memory <rounds> <roundMs>`: both variants in this one
 *   process, each request injected in memory (light-my-request, Fastify's own inject, which builds
 *   Node's IncomingMessage/ServerResponse without a socket), in turn (a second bare app, the A/A
 *   control, between them; the order reversed every round); prints one JSON line
 *   `{ bare: [µs/req...], control: [...], meshlet: [...], bareBytes: [...], ... }`: this
 *   thread's CPU and the V8 heap bytes allocated per request (support/allocation.ts), which a
 *   loaded machine does not move. No syscall, parser or scheduler: what is left is the
 *   JavaScript of a request, the adapter's included.
 *   NOTE: light-my-request's response never reports writableFinished, so every in-memory
 *   request ends on the gate's client-went-away path (a flag, since nothing asked for its signal).
 */
import 'reflect-metadata';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import Fastify from 'fastify';
import inject from 'light-my-request';
import { meshlet as expressMeshlet } from '../../adapters/express/index.ts';
import { meshlet as fastifyMeshlet } from '../../adapters/fastify/index.ts';
import { MeshModule } from '../../adapters/nestjs/index.ts';
import { createMesh } from '../../src/index.ts';
import { measureAllocation } from './allocation.ts';

const body = { ok: true };
const HEADERS = { 'x-meshlet-timeout-ms': '5000' };
const cpu = (): { us: number } => {
  const used = process.cpuUsage();
  return { us: used.user + used.system };
};

interface App {
  readonly server: Server;
  /** Node's (req, res) entry of the app, for in-memory requests. */
  readonly dispatch: (req: IncomingMessage, res: ServerResponse) => void;
}

async function start(framework: string, withMeshlet: boolean): Promise<App> {
  const mesh = await createMesh({ service: 'bench', config: { services: {} } });
  if (framework === 'express') {
    const app = express();
    if (withMeshlet) app.use(expressMeshlet(mesh));
    app.get('/x', (_req, res) => {
      res.json(body);
    });
    app.get('/cpu', (_req, res) => {
      res.json(cpu());
    });
    const server = await new Promise<Server>((resolve) => {
      const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    return { server, dispatch: app };
  }
  if (framework === 'fastify') {
    const app = Fastify();
    if (withMeshlet) await app.register(fastifyMeshlet, { mesh });
    app.get('/x', async () => body);
    app.get('/cpu', async () => cpu());
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { server: app.server, dispatch: app.routing };
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
  const onFastify = framework === 'nest-fastify';
  const app = await NestFactory.create(AppModule, onFastify ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const instance = app.getHttpAdapter().getInstance();
  return { server: app.getHttpServer() as Server, dispatch: onFastify ? instance.routing : instance };
}

/** Rounds of in-memory requests, 32 in flight, alternating variants; this thread's CPU µs per request. */
async function inMemory(framework: string, rounds: number, roundMs: number): Promise<void> {
  // control: a second bare app, measured like the others (the A/A noise floor).
  const variants = { bare: await start(framework, false), control: await start(framework, false), meshlet: await start(framework, true) };
  const results: Record<string, number[]> = { bare: [], control: [], meshlet: [], bareBytes: [], controlBytes: [], meshletBytes: [] };
  const round = async (app: App, ms: number): Promise<{ cpu: number; bytes: number }> => {
    let done = 0;
    const before = process.threadCpuUsage();
    const end = performance.now() + ms;
    const loop = async (): Promise<void> => {
      while (performance.now() < end) {
        await inject(app.dispatch, { method: 'GET', url: '/x', headers: HEADERS });
        done++;
      }
    };
    const { bytes } = await measureAllocation(() => Promise.all(Array.from({ length: 32 }, loop)));
    const used = process.threadCpuUsage(before);
    return { cpu: (used.user + used.system) / done, bytes: bytes / done };
  };
  for (let i = 0; i < 2; i++) for (const app of Object.values(variants)) await round(app, roundMs);
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? (['bare', 'control', 'meshlet'] as const) : (['meshlet', 'control', 'bare'] as const);
    for (const name of order) {
      const { cpu: us, bytes } = await round(variants[name], roundMs);
      results[name]!.push(us);
      results[`${name}Bytes`]!.push(bytes);
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
  process.exit(0);
}

const [framework = 'express', variant = 'bare', rounds = '20', roundMs = '300'] = process.argv.slice(2);
if (variant === 'memory') await inMemory(framework, Number(rounds), Number(roundMs));
else {
  const { server } = await start(framework, variant === 'meshlet');
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}
