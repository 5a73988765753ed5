/**
 * The admin statistics against a real mesh and its real publishers: a backend that fails every
 * first try (503) and answers the retry, so each logical call succeeds after two attempts.
 * state.json must show what retries did: logical success 100%, per-attempt success 50%, twice
 * as many attempts as calls, and the per-endpoint success rate of the one endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createMesh, type Mesh } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';
import { type AdminServer, startAdminServer } from './admin-server.ts';

const CALLS = 10;

interface Stats {
  callsPerSecond: number;
  successRate: number | null;
  attemptsPerSecond: number;
  attemptSuccessRate: number | null;
  history: { calls: number[]; failures: number[] };
  endpoints: Record<string, { attempts: number; successRate: number | null; latencyMs: number | null }>;
}

let backend: Backend;
let mesh: Mesh;
let admin: AdminServer;

before(async () => {
  let requests = 0;
  backend = await startBackend((_req, res) => {
    res.statusCode = requests++ % 2 === 0 ? 503 : 200;
    res.end();
  });
  mesh = await createMesh({ service: 'stats-mesh-test', config: { services: { 'stats-pay': { endpoints: [backend.address], retry: { attempts: 2 }, outlier: false, breaker: false } } } });
  admin = await startAdminServer(mesh.adminHandler());
});

after(async () => {
  await admin?.close();
  await mesh?.close();
  await backend?.close();
});

it('shows logical vs per-attempt success of calls that each needed one retry', async () => {
  for (let i = 0; i < CALLS; i++) {
    const res = await mesh.client('stats-pay').request({ path: '/' });
    await res.body.text();
    assert.equal(res.statusCode, 200);
  }
  let stats: Stats | undefined;
  // Rates count whole seconds: the calls' last second shows once it has ended.
  await eventually(async () => {
    const state = (await (await fetch(`${admin.url}state.json`)).json()) as { services: Record<string, { stats: Stats | null }> };
    stats = state.services['stats-pay']!.stats ?? undefined;
    return stats !== undefined && stats.history.calls.reduce((a, b) => a + b, 0) === CALLS;
  }, 'the calls in whole seconds', 3000);
  assert.equal(stats!.successRate, 1);
  assert.equal(stats!.attemptSuccessRate, 0.5);
  assert.equal(stats!.callsPerSecond * 2, stats!.attemptsPerSecond);
  assert.equal(stats!.history.failures.reduce((a, b) => a + b, 0), 0);
  const endpoint = stats!.endpoints[backend.address]!;
  assert.deepEqual({ ...endpoint, latencyMs: undefined }, { attempts: 2 * CALLS, successRate: 0.5, latencyMs: undefined });
  assert.ok(typeof endpoint.latencyMs === 'number' && endpoint.latencyMs > 0, `a live endpoint's mean latency is above 0 ms (${endpoint.latencyMs})`);
});
