/**
 * A script whose config comes from Consul KV exits on its own without mesh.close() (issue
 * 15's rule): neither the parked blocking query of the KV watch nor its backoff timers while
 * Consul is down keep the process alive. The emulator and the backend live here, in the
 * parent, so the child has no handle of its own but the mesh's.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { lastJsonLine, runScriptToExit } from '../support/child-script.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulSuite } from '../support/consul-suite.ts';
import type { Backend } from '../support/http-backend.ts';
import { portBackend } from './consul-control-harness.ts';

const SCRIPT = new URL('./liveness/consul-control-script.ts', import.meta.url).pathname;
/** Far longer than the script needs; far shorter than the 60 s a blocking query is held. */
const KILLED_AFTER_MS = 20_000;

async function runScript(control: string, bootstrap: unknown): Promise<{ result: number | string; status: string }> {
  const { stdout } = await runScriptToExit(SCRIPT, [control, JSON.stringify(bootstrap)], { killAfterMs: KILLED_AFTER_MS, heldBy: 'the KV watch' });
  return lastJsonLine(stdout);
}

describe('a script with its config in Consul KV exits without close()', () => {
  const suite = consulSuite(startConsulEmulator);
  let backend: Backend;
  before(async () => {
    backend = await suite.backend(portBackend);
  });

  it('while the KV watch holds a blocking query', async () => {
    await suite.consul.kv.put('live/services/api', JSON.stringify({ endpoints: [backend.address] }));
    const outcome = await runScript(`consul://127.0.0.1:${suite.consul.port}/live`, {});
    assert.deepEqual(outcome, { result: backend.port, status: 'ok' });
    // It did park one: the exit was not because the watch never started.
    assert.ok(suite.consul.requests.some((request) => request.path === '/v1/kv/live/' && /index=\d+/.test(request.query)), 'a blocking KV query was sent');
  });

  it('while Consul is down and the watch is backing off', async () => {
    const gone = await startConsulEmulator();
    const port = gone.port;
    await gone.close();
    const outcome = await runScript(`consul://127.0.0.1:${port}/live`, { services: { api: { endpoints: [backend.address] } } });
    assert.deepEqual(outcome, { result: backend.port, status: 'unavailable' });
  });
});
