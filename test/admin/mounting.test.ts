/**
 * The admin handler mounted as examples/admin.ts shows (the README quotes it): a bare server,
 * Express under a prefix with a token, Fastify through raw req/res, Nest on Express — each serving the page,
 * state.json and config.json of one real mesh. And the README's snippet is the example's,
 * verbatim, so the docs cannot drift from code that runs.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import fastify from 'fastify';
import { mountInExpress, mountInFastify, mountInNest, serveAdmin } from '../../examples/admin.ts';
import { createMesh, type Mesh } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

const TOKEN = 'mounting-test-token';

async function expectPages(base: string, headers: Record<string, string> = {}): Promise<void> {
  const page = await fetch(base, { headers });
  assert.equal(page.status, 200, base);
  assert.match(await page.text(), /<title>meshlet admin<\/title>/);
  const state = (await (await fetch(`${base}state.json`, { headers })).json()) as { services: Record<string, unknown> };
  assert.ok(state.services['mount-pay'], base);
  assert.equal((await fetch(`${base}config.json`, { headers })).status, 200);
}

describe('mounting the admin handler (examples/admin.ts)', () => {
  let backend: Backend;
  let mesh: Mesh;

  before(async () => {
    backend = await startBackend();
    mesh = await createMesh({ service: 'mounting-test', config: { services: { 'mount-pay': { endpoints: [backend.address] } } } });
  });

  after(async () => {
    await mesh?.close();
    await backend?.close();
  });

  it('on a bare http server', async () => {
    const server = serveAdmin(mesh, 0);
    await once(server, 'listening');
    try {
      await expectPages(`http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/`);
    } finally {
      server.close();
    }
  });

  it('in Express under /admin, with a token', async () => {
    const app = express();
    mountInExpress(mesh, app, TOKEN);
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/`;
      assert.equal((await fetch(`${base}state.json`)).status, 401);
      await expectPages(base, { authorization: `Bearer ${TOKEN}` });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('in Fastify through the raw request and response', async () => {
    const app = fastify();
    mountInFastify(mesh, app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await expectPages(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/admin/`);
    } finally {
      await app.close();
    }
  });

  it('in Nest on its Express platform', async () => {
    await import('reflect-metadata');
    const { Module } = await import('@nestjs/common');
    const { NestFactory } = await import('@nestjs/core');
    const { ExpressAdapter } = await import('@nestjs/platform-express');
    class AdminAppModule {}
    Module({})(AdminAppModule);
    const app = await NestFactory.create(AdminAppModule, new ExpressAdapter(), { logger: false });
    mountInNest(mesh, app);
    await app.listen(0, '127.0.0.1');
    try {
      await expectPages(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/admin/`);
    } finally {
      await app.close();
    }
  });

  it('README "Admin dashboard" quotes the example verbatim', async () => {
    const example = await readFile(new URL('../../examples/admin.ts', import.meta.url), 'utf8');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const snippet = /\/\/ --- admin dashboard ---\n([\s\S]*?)\/\/ --- end admin dashboard ---/.exec(example)?.[1];
    assert.ok(snippet, 'examples/admin.ts has the markers');
    assert.ok(readme.includes(`\`\`\`ts\n${snippet}\`\`\``), 'README.md contains the admin snippet verbatim');
  });
});
