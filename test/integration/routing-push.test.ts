/**
 * Route changes through a watched config file (issue 11): a new split pushed while calls flow
 * applies without failing a call in flight or one started meanwhile, and a push with invalid
 * routes (weights not summing to 100, an unknown subset, a bad regex) is rejected naming the
 * field, while the routing in force keeps serving.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMesh, type Mesh, type MeshEvents } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';

function nextEvent<K extends 'config' | 'config-rejected'>(mesh: Mesh, name: K, timeoutMs = 5000): Promise<MeshEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${name}' event within ${timeoutMs} ms`)), timeoutMs);
    const dispose = mesh.on(name, (event) => {
      clearTimeout(timer);
      dispose();
      resolve(event);
    });
  });
}

describe('routing: pushed route changes', () => {
  let dir: string;
  let file: string;
  let v1: Backend;
  let v2: Backend;
  let mesh: Mesh;

  const slowly = async (req: { url?: string }, res: { end(body: string): void }) => {
    if (req.url === '/slow') await new Promise((resolve) => setTimeout(resolve, 300));
    res.end('{}');
  };
  const document = (routes: unknown) => ({
    services: {
      payments: {
        endpoints: [
          { address: v1.address, tags: ['v1'] },
          { address: v2.address, tags: ['v2'] },
        ],
        subsets: { v1: { tags: ['v1'] }, v2: { tags: ['v2'] } },
        routes,
      },
    },
  });
  const push = (routes: unknown) => writeFile(file, JSON.stringify(document(routes)));
  const ALL_V1 = [{ name: 'main', to: [{ subset: 'v1', weight: 100 }, { subset: 'v2', weight: 0 }] }];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshlet-routes-'));
    file = join(dir, 'mesh.json');
    v1 = await startBackend(slowly);
    v2 = await startBackend(slowly);
    await push(ALL_V1);
    mesh = await createMesh({ service: 'web', control: `file:${file}` });
  });

  after(async () => {
    await mesh.close();
    await v1.close();
    await v2.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = async (path = '/'): Promise<number> => {
    const res = await mesh.client('payments').request({ path });
    await res.body.dump();
    return res.statusCode;
  };

  it('a split pushed mid-traffic applies without failing a call', async () => {
    v1.received.length = 0;
    v2.received.length = 0;
    let flowing = true;
    const statuses: number[] = [];
    const failures: unknown[] = [];
    const traffic = Array.from({ length: 8 }, async () => {
      while (flowing) {
        try {
          statuses.push(await call());
        } catch (error) {
          failures.push(error);
        }
      }
    });
    const inFlight = call('/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const applied = nextEvent(mesh, 'config');
    await push([{ name: 'main', to: [{ subset: 'v1', weight: 0 }, { subset: 'v2', weight: 100 }] }]);
    assert.deepEqual((await applied).changedServices, ['payments']);
    const v2Before = v2.received.length;
    // Traffic after the push: 50 more calls, not a fixed time (a loaded machine makes fewer in 100 ms).
    await eventually(() => statuses.length > 50 && v2.received.length > v2Before + 20, 'calls to flow after the push', 10_000);
    flowing = false;
    await Promise.all(traffic);
    assert.equal(await inFlight, 200, 'the call in flight at the push finished on its route');
    assert.deepEqual(failures, []);
    assert.ok(statuses.length > 50 && statuses.every((s) => s === 200), `${statuses.length} calls`);
    assert.ok(v2.received.length > v2Before, 'calls after the push go to v2');
    v1.received.length = 0;
    for (let i = 0; i < 20; i++) assert.equal(await call(), 200);
    assert.equal(v1.received.length, 0, 'no call goes to v1 after the push');
  });

  const invalid: [what: string, routes: unknown, path: string, fragment: string][] = [
    ['weights not summing to 100', [{ to: [{ subset: 'v1', weight: 60 }, { subset: 'v2', weight: 50 }] }], 'services.payments.routes.0.to', 'must be 100, not 110'],
    ['an unknown subset', [{ to: [{ subset: 'v1', weight: 50 }, { subset: 'v9', weight: 50 }] }], 'services.payments.routes.0.to.1.subset', 'no subset "v9"'],
    ['a bad regex', [{ match: { pathRegex: '(' }, to: [{ subset: 'v1' }] }, { to: [{ subset: 'v1' }] }], 'services.payments.routes.0.match.pathRegex', 'not an accepted regex'],
  ];
  for (const [what, routes, path, fragment] of invalid) {
    it(`a push with ${what} is rejected at ${path}, and the routing in force keeps serving`, async () => {
      const rejected = nextEvent(mesh, 'config-rejected');
      await push(routes);
      const event = await rejected;
      const issue = event.issues.find((i) => i.path === path);
      assert.ok(issue?.message.includes(fragment), JSON.stringify(event.issues));
      v1.received.length = 0;
      v2.received.length = 0;
      for (let i = 0; i < 20; i++) assert.equal(await call(), 200);
      assert.deepEqual([v1.received.length, v2.received.length], [0, 20], 'still all to v2, as the last good push said');
    });
  }
});

describe('routing: a change to a service a route sends to', () => {
  it("regression: a route to another service's subset follows a pushed change of that service's subsets, though the routed service's own config did not change", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshlet-routes-'));
    const file = join(dir, 'mesh.json');
    const [blue, green, own] = [await startBackend(), await startBackend(), await startBackend()];
    const document = (blueTag: string) => ({
      services: {
        payments: { endpoints: [own.address], routes: [{ name: 'to-ledger', to: [{ service: 'ledger', subset: 'blue' }] }] },
        ledger: {
          endpoints: [
            { address: blue.address, tags: ['blue'] },
            { address: green.address, tags: ['green'] },
          ],
          subsets: { blue: { tags: [blueTag] } },
        },
      },
    });
    await writeFile(file, JSON.stringify(document('blue')));
    const mesh = await createMesh({ service: 'web', control: `file:${file}` });
    const call = async () => {
      const res = await mesh.client('payments').request({ path: '/' });
      await res.body.dump();
    };
    try {
      for (let i = 0; i < 10; i++) await call();
      assert.deepEqual([blue.received.length, green.received.length], [10, 0]);
      const applied = nextEvent(mesh, 'config');
      await writeFile(file, JSON.stringify(document('green')));
      assert.deepEqual((await applied).changedServices, ['ledger', 'payments']);
      for (let i = 0; i < 10; i++) await call();
      assert.deepEqual([blue.received.length, green.received.length], [10, 10]);
    } finally {
      await mesh.close();
      await Promise.all([blue.close(), green.close(), own.close()]);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
