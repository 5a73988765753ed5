/**
 * MeshModule.forRootAsync on both Nest platforms (the matrix uses forRoot): options from a
 * factory that injects a provider of another module, the mesh made by the module from
 * createMesh() options, an upstream injected by name into a controller, the inbound deadline
 * reaching its call (a POST whose body Nest parsed), and app.close() closing that mesh.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, it } from 'node:test';
import { Body, Controller, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { InjectMesh, InjectUpstream, MeshModule } from '../../adapters/nestjs/index.ts';
import { type Mesh, type ServiceClient, TIMEOUT_HEADER } from '../../src/index.ts';
import { startBackend } from '../support/http-backend.ts';
import { expectMeshError } from '../support/mesh-error.ts';
import { post } from './client.ts';
import { statusOf } from './frameworks.ts';

const c = await startBackend();
after(() => c.close());

const SETTINGS = Symbol('settings');

for (const platform of ['express', 'fastify'] as const) {
  it(`forRootAsync on Nest's ${platform} platform: factory options, an injected upstream, the inbound deadline, the mesh closed by app.close()`, async () => {
    class SettingsModule {}
    Module({ providers: [{ provide: SETTINGS, useValue: { address: c.address, maxTimeout: 400 } }], exports: [SETTINGS] })(SettingsModule);

    let injectedMesh: Mesh | undefined;
    class OrdersController {
      readonly #c: ServiceClient;
      constructor(client: ServiceClient, mesh: Mesh) {
        this.#c = client;
        injectedMesh = mesh;
      }
      async order(body: { item: string }): Promise<unknown> {
        return { item: body.item, status: await statusOf(this.#c.request({ path: '/c' })) };
      }
    }
    Controller('/')(OrdersController);
    InjectUpstream('c')(OrdersController, undefined, 0);
    InjectMesh()(OrdersController, undefined, 1);
    Body()(OrdersController.prototype, 'order', 0);
    Post('/orders')(OrdersController.prototype, 'order', Object.getOwnPropertyDescriptor(OrdersController.prototype, 'order')!);

    class AppModule {}
    Module({
      imports: [
        MeshModule.forRootAsync({
          upstreams: ['c'],
          imports: [SettingsModule],
          inject: [SETTINGS],
          useFactory: (settings: { address: string; maxTimeout: number }) => ({
            mesh: { service: 'orders', config: { services: { c: { endpoints: [settings.address] } } } },
            maxTimeout: settings.maxTimeout,
          }),
        }),
      ],
      controllers: [OrdersController],
    })(AppModule);

    const app = await NestFactory.create(AppModule, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
    try {
      const answer = await post(`${url}/orders`, { item: 'book' }, { [TIMEOUT_HEADER]: '60000' });
      assert.equal(answer.status, 201, answer.body);
      assert.deepEqual(JSON.parse(answer.body), { item: 'book', status: 200 });
      const sent = Number(c.received.at(-1)?.headers[TIMEOUT_HEADER]);
      assert.ok(sent > 300 && sent <= 400, `the factory's maxTimeout clipped the call: ${sent}`);
    } finally {
      await app.close();
    }
    assert.ok(injectedMesh !== undefined);
    await expectMeshError(injectedMesh.client('c').request({ path: '/c' }), 'MESH_CLOSED');
  });
}
