/**
 * A one-shot script whose service is discovered through Consul exits on its own once its
 * calls are done, without mesh.close() (issue 15's rule: background work never keeps the
 * process alive): with the agent answering, with the agent down, and with the agent hung.
 * The script is liveness/one-shot-call.ts, run as a child with CONSUL_HTTP_ADDR pointing at
 * an emulator that lives here, in the parent.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { lastJsonLine, runScriptToExit } from '../support/child-script.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulSuite } from '../support/consul-suite.ts';
import type { OneShotPlan, OneShotResult } from './liveness/one-shot-call.ts';
import { registrationOf } from './consul-discovery-harness.ts';

const SCRIPT = new URL('./liveness/one-shot-call.ts', import.meta.url).pathname;
const KILLED_AFTER_MS = 20_000;

async function runOneShot(plan: OneShotPlan, consulUrl: string): Promise<{ results: OneShotResult[]; ms: number }> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, CONSUL_HTTP_ADDR: consulUrl };
  delete env.CONSUL_HTTP_TOKEN;
  const { stdout } = await runScriptToExit(SCRIPT, [JSON.stringify(plan)], { killAfterMs: KILLED_AFTER_MS, env });
  return { results: lastJsonLine<{ results: OneShotResult[] }>(stdout).results, ms: performance.now() - started };
}

const plan: OneShotPlan = { config: { services: { s: { discovery: { type: 'consul', service: 'live' } } } }, calls: ['s'], close: false };

describe('a one-shot script with Consul discovery exits on its own', () => {
  const suite = consulSuite(startConsulEmulator);
  before(async () => {
    await suite.consul.catalog.register(registrationOf(await suite.backend(), 'live', 'live-1'));
  });

  it('with the agent answering: the call succeeds and the parked health watch does not hold the process', async () => {
    const { results } = await runOneShot(plan, suite.consul.url);
    assert.deepEqual(results, [{ status: 200 }]);
  });

  it('with the agent down: the call fails with MESH_NO_ENDPOINTS and the retrying watch does not hold the process', async () => {
    await suite.consul.stop();
    try {
      const { results } = await runOneShot(plan, suite.consul.url);
      assert.equal((results[0] as { code?: string }).code, 'MESH_NO_ENDPOINTS');
    } finally {
      await suite.consul.start();
    }
  });

  it('regression: with the agent hung, the script exits once its call is done, not when the hung read times out', async () => {
    // Last in the suite: every request from here on hangs (the hook only counts up).
    suite.consul.faults.hangNext(1000);
    const { results, ms } = await runOneShot(plan, suite.consul.url);
    assert.equal((results[0] as { code?: string }).code, 'MESH_NO_ENDPOINTS');
    // The start-up bound (2 s) plus a process start; the client's read timeout is 10 s.
    assert.ok(ms < 8000, `the script took ${Math.round(ms)} ms`);
  });
});
