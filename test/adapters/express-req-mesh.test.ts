/**
 * `req.mesh` on Express: a getter on Express's base request prototype reads the mesh of the gate
 * the request passed (adapters/express, src/inbound/node-middleware.ts meshOnExpressRequests),
 * instead of a property stored on every request. It must give each request its gate's mesh in a
 * mounted sub-app and through an app called as a plain function (both swap the request's
 * prototype), nothing in an app no gate serves, its own mesh to a second app with another mesh,
 * and let an application's own `req.mesh = x` hold on that request only.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, it } from 'node:test';
import express, { type Express, type Request, type Response } from 'express';
import { meshlet } from '../../adapters/express/index.ts';
import { createMesh, type Mesh } from '../../src/index.ts';
import { get } from './client.ts';
import { listenExpress } from './listen.ts';

const first = await createMesh({ service: 'first', config: { services: {} } });
const second = await createMesh({ service: 'second', config: { services: {} } });
const servers: Server[] = [];
after(async () => {
  for (const server of servers) server.close();
  await first.close();
  await second.close();
});

const listen = (app: Express): Promise<string> => listenExpress(app, servers);

/** Which mesh the handler saw, and whether it was an own property of the request. */
function report(req: Request, res: Response): void {
  const mesh = req.mesh as Mesh | undefined;
  res.json({ mesh: mesh === first ? 'first' : mesh === second ? 'second' : mesh === undefined ? 'none' : 'other', own: Object.hasOwn(req, 'mesh') });
}

const gated = express();
gated.use(meshlet(first));
gated.get('/x', report);
const sub = express();
sub.get('/x', report);
gated.use('/sub', sub);
const legacy = express();
gated.use('/legacy', (req, res, next) => legacy(req, res, next));
gated.get('/legacy/x', report);
gated.get('/assign', (req, res) => {
  (req as { mesh: unknown }).mesh = 'assigned';
  res.json({ mesh: req.mesh, own: Object.hasOwn(req, 'mesh') });
});
const gatedUrl = await listen(gated);

it('a gated request reads its gate mesh with nothing stored on it, in the app, in a mounted sub-app and through an app called as a function', async () => {
  for (const path of ['/x', '/x', '/sub/x', '/legacy/x']) {
    const answer = await get(`${gatedUrl}${path}`);
    assert.equal(answer.status, 200, path);
    assert.deepEqual(JSON.parse(answer.body), { mesh: 'first', own: false }, path);
  }
});

it("an application's own req.mesh = ... holds on that request only", async () => {
  assert.deepEqual(JSON.parse((await get(`${gatedUrl}/assign`)).body), { mesh: 'assigned', own: true });
  assert.deepEqual(JSON.parse((await get(`${gatedUrl}/x`)).body), { mesh: 'first', own: false });
});

it('an app no gate serves sees no mesh; a second app with another mesh sees its own, from its own gate', async () => {
  const plain = express();
  plain.get('/x', report);
  assert.deepEqual(JSON.parse((await get(`${await listen(plain)}/x`)).body), { mesh: 'none', own: false });
  const other = express();
  other.use(meshlet(second));
  other.get('/x', report);
  const otherUrl = await listen(other);
  for (let i = 0; i < 2; i++) assert.deepEqual(JSON.parse((await get(`${otherUrl}/x`)).body), { mesh: 'second', own: false });
  assert.deepEqual(JSON.parse((await get(`${gatedUrl}/x`)).body), { mesh: 'first', own: false });
});
