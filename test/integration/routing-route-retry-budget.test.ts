/**
 * Regression (issue 11 review): a service with `retry: false` whose route retries got an
 * unlimited retry budget. The runtime made its budget from the service policy alone (retries
 * off: no budget at all), while the route's merged policy took the built-in retry settings,
 * budget included: every call to a failing backend was tried `attempts` times, with nothing to
 * stop a retry storm (DESIGN §2: attempts under a shared retry budget; §5: retries stop when
 * the budget is empty).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Mesh } from '../../src/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { startOneBackendMesh } from '../support/one-backend-mesh.ts';

describe('routing: a route retrying on a service with retries off', () => {
  let backend: Backend;
  let mesh: Mesh;

  before(async () => {
    ({ backend, mesh } = await startOneBackendMesh(
      { retry: false, outlier: false, routes: [{ name: 'retried', to: [{ service: 'payments' }], retry: { attempts: 3, on: ['503'] } }] },
      (_req, res) => {
        res.statusCode = 503;
        res.end('{}');
      },
      'web',
    ));
  });

  after(async () => {
    await mesh.close();
    await backend.close();
  });

  it("the route's retries draw on the built-in retry budget, not an unlimited one", async () => {
    const calls = 200;
    for (let done = 0; done < calls; done += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const res = await mesh.client('payments').request({ path: '/' });
          await res.body.dump();
          assert.equal(res.statusCode, 503);
        }),
      );
    }
    // The built-in budget (20% of calls + 10/s over 10 s: a reserve of 100) allows at most
    // 100 + 0.2 * 200 = 140 retries here; without a budget every call is tried 3 times (600).
    assert.ok(backend.received.length <= calls + 140, `${backend.received.length} requests for ${calls} calls: the route's retries were not budgeted`);
    assert.ok(backend.received.length > calls, 'the route retried at all');
    const budget = (mesh.state().services as Record<string, { budget: { enabled: boolean } }>).payments!.budget;
    assert.equal(budget.enabled, true);
  });
});
