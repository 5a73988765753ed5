/**
 * Regression: two meshes in one process that call a service of the same name. The diagnostics
 * channels are process-wide, so the admin page of one mesh counted the other mesh's calls (and
 * another mesh's discovery removing an endpoint dropped this one's endpoint figures). Each
 * message now names its mesh (`mesh`, an id per mesh in the process) and a mesh's admin
 * statistics count its own calls only.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { CallStats } from '../../src/admin/call-stats.ts';
import { createMesh, type Mesh } from '../../src/index.ts';
import { attemptEndChannel, callEndChannel, callStartChannel, endpointChannel } from '../../src/telemetry/channels.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';
import { type AdminServer, startAdminServer } from './admin-server.ts';

interface Stats {
  history: { calls: number[] };
  endpoints: Record<string, { attempts: number }>;
}

let backend: Backend;
let mine: Mesh;
let other: Mesh;
let admin: AdminServer;

before(async () => {
  backend = await startBackend();
  const config = { services: { 'twin-pay': { endpoints: [backend.address], retry: false, outlier: false, breaker: false } } };
  mine = await createMesh({ service: 'twin-a', config });
  other = await createMesh({ service: 'twin-b', config });
  admin = await startAdminServer(mine.adminHandler());
});

after(async () => {
  await admin?.close();
  await mine?.close();
  await other?.close();
  await backend?.close();
});

const call = async (mesh: Mesh): Promise<void> => {
  await (await mesh.client('twin-pay').request({ path: '/' })).body.text();
};

it("regression: a mesh's admin page counts its own calls only, not another mesh's calls to a service of the same name", async () => {
  for (let i = 0; i < 5; i++) await call(other);
  for (let i = 0; i < 2; i++) await call(mine);
  let stats: Stats | undefined;
  const total = (): number => stats?.history.calls.reduce((a, b) => a + b, 0) ?? 0;
  // Rates count whole seconds: the calls' last second shows once it has ended.
  await eventually(async () => {
    const state = (await (await fetch(`${admin.url}state.json`)).json()) as { services: Record<string, { stats: Stats | null }> };
    stats = state.services['twin-pay']!.stats ?? undefined;
    return total() >= 2;
  }, "this mesh's calls in whole seconds", 3000);
  assert.equal(total(), 2, "the other mesh's 5 calls must not be counted");
  assert.equal(stats!.endpoints[backend.address]!.attempts, 2);
});

it('every call, attempt and endpoint message names its mesh, and the two meshes differ', async () => {
  const seen = new Map<string, Set<unknown>>();
  const listeners = [callStartChannel, callEndChannel, attemptEndChannel].map((channel) => {
    const listener = (message: unknown): void => {
      const ids = seen.get(channel.name as string) ?? new Set();
      ids.add((message as { mesh?: unknown }).mesh);
      seen.set(channel.name as string, ids);
    };
    channel.subscribe(listener);
    return () => channel.unsubscribe(listener);
  });
  try {
    await call(mine);
    await call(other);
  } finally {
    for (const stop of listeners) stop();
  }
  for (const [name, ids] of seen) {
    assert.equal(ids.size, 2, `${name}: ${[...ids].join(', ')}`);
    for (const id of ids) assert.equal(typeof id, 'number', name);
  }
  assert.equal(seen.size, 3);
});

it("regression: another mesh's endpoint removal leaves this mesh's endpoint figures alone", () => {
  let now = 100_000;
  const stats = new CallStats({ now: () => now, mesh: 1 });
  try {
    const attempt = { mesh: 1, service: 's', attempt: 1, hedge: false, endpoint: 'e1', method: 'GET', startedAt: 0, durationMs: 1, statusCode: 200, outcome: 'success', condition: undefined, errorType: undefined };
    attemptEndChannel.publish(attempt);
    attemptEndChannel.publish({ ...attempt, mesh: 2 });
    endpointChannel.publish({ mesh: 2, service: 's', endpoint: 'e1', event: 'removed', reason: undefined });
    now += 1000;
    assert.deepEqual(stats.service('s')?.endpoints.e1, { attempts: 1, successRate: 1, latencyMs: 1 });
  } finally {
    stats.close();
  }
});
