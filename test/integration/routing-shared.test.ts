/**
 * What a routed service keeps per service, not per route (DESIGN §2, issue 11): its concurrency
 * limit, breaker and rate limit judge every call whichever route it takes, its endpoints' load
 * statistics are one per endpoint, and an unrouted service shows no routing at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMesh, type Mesh } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

describe('routing: service-wide state shared by route targets', () => {
  let backend: Backend;
  let other: Backend;
  let failing = false;

  before(async () => {
    backend = await startBackend(async (req, res) => {
      if (req.url?.startsWith('/slow')) await new Promise((resolve) => setTimeout(resolve, 200));
      res.statusCode = failing ? 500 : 200;
      res.end('{}');
    });
    other = await startBackend();
  });

  after(async () => {
    await backend.close();
    await other.close();
  });

  /** One endpoint in both subsets, so two routes reach it by different target stacks. */
  const service = (extra: Record<string, unknown>) => ({
    endpoints: [{ address: backend.address, tags: ['blue', 'green'] }],
    subsets: { blue: { tags: ['blue'] }, green: { tags: ['green'] } },
    retry: false,
    routes: [
      { name: 'blue', match: { pathPrefix: '/slow/blue' }, to: [{ subset: 'blue' }], timeout: '2s' },
      { name: 'blue-fast', match: { pathPrefix: '/blue' }, to: [{ subset: 'blue' }], timeout: '1s' },
      { name: 'green', to: [{ subset: 'green' }], perTryTimeout: '1s' },
    ],
    ...extra,
  });

  async function withMesh(extra: Record<string, unknown>, run: (mesh: Mesh) => Promise<void>): Promise<void> {
    const mesh = await createMesh({ service: 'web', config: { services: { payments: service(extra), ledger: { endpoints: [other.address] } } } });
    try {
      await run(mesh);
    } finally {
      await mesh.close();
    }
  }

  it('one concurrency limit holds across routes: a call on one route holds the slot a call on another needs', async () => {
    await withMesh({ concurrency: { max: 1 } }, async (mesh) => {
      const holding = mesh.client('payments').request({ path: '/slow/blue' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await assert.rejects(mesh.client('payments').request({ path: '/green' }), (error: { code?: string }) => error.code === 'MESH_CONCURRENCY_LIMIT');
      const res = await holding;
      await res.body.dump();
      const state = (mesh.state().services as Record<string, { concurrency: { shed: number; limit: number } }>).payments!;
      assert.equal(state.concurrency.shed, 1);
      assert.equal(state.concurrency.limit, 1);
    });
  });

  it("one breaker judges every route: failures on one route open it for the others'", async () => {
    failing = true;
    try {
      await withMesh({ breaker: { minRequests: 4, errorRate: 0.5, window: '10s', openFor: '5s' } }, async (mesh) => {
        for (let i = 0; i < 4; i++) {
          const res = await mesh.client('payments').request({ path: '/green' });
          await res.body.dump();
        }
        await assert.rejects(mesh.client('payments').request({ path: '/blue' }), (error: { code?: string }) => error.code === 'MESH_CIRCUIT_OPEN');
      });
    } finally {
      failing = false;
    }
  });

  it('one endpoint, one load record: calls on both routes count on the same endpoint', async () => {
    await withMesh({}, async (mesh) => {
      for (const path of ['/blue', '/green', '/green']) {
        const res = await mesh.client('payments').request({ path });
        await res.body.dump();
      }
      const state = (mesh.state().services as Record<string, { endpoints: { requests: number }[]; routes: { name: string; targets: { calls: number }[] }[] }>).payments!;
      assert.equal(state.endpoints.length, 1);
      assert.equal(state.endpoints[0]!.requests, 3);
      assert.deepEqual(state.routes.map((r) => [r.name, r.targets[0]!.calls]), [['blue', 0], ['blue-fast', 1], ['green', 2]]);
    });
  });

  it("a route to another service is served by that service's endpoints", async () => {
    const mesh = await createMesh({
      service: 'web',
      config: {
        services: {
          payments: { endpoints: [backend.address], routes: [{ name: 'to-ledger', match: { pathPrefix: '/ledger' }, to: [{ service: 'ledger' }] }] },
          ledger: { endpoints: [other.address] },
        },
      },
    });
    try {
      const before = [backend.received.length, other.received.length];
      for (const path of ['/ledger/1', '/ledger/2', '/pay']) {
        const res = await mesh.client('payments').request({ path });
        assert.equal(res.statusCode, 200);
        await res.body.dump();
      }
      assert.deepEqual([backend.received.length - before[0]!, other.received.length - before[1]!], [1, 2]);
      const state = (mesh.state().services as Record<string, { routes: { targets: { servedBy: string | null }[] }[] }>).payments!;
      assert.equal(state.routes[0]!.targets[0]!.servedBy, 'ledger');
    } finally {
      await mesh.close();
    }
  });

  it('an unrouted service shows no routes', async () => {
    await withMesh({}, async (mesh) => {
      const state = (mesh.state().services as Record<string, Record<string, unknown>>).ledger!;
      assert.equal('routes' in state, false);
    });
  });
});
