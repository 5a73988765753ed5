/**
 * Regression (issue 15's rule, KV watch): after a failed round the watch retries with a plain
 * read, and that read held a call timer (the kind an awaited request holds), so while the
 * agent hung (accepting connections, answering nothing: a partition, a stuck agent) a script
 * that never called close() and finished its work while a retry was out stayed alive for
 * that retry's whole 10 s timeout. Only the first read, which createMesh awaits, may hold the
 * process now.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lastJsonLine, runScriptToExit } from '../support/child-script.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

const SCRIPT = new URL('./liveness/consul-control-script.ts', import.meta.url).pathname;
/** The script's one call takes this long: the watch's first retry is hanging when it ends. */
const CALL_MS = 1500;
/** Far longer than the script needs, shorter than the retry read's 10 s timeout it must not wait for. */
const KILLED_AFTER_MS = 8000;

describe('regression: a script with its config in Consul KV exits while the agent hangs', () => {
  const suite = consulSuite(startConsulEmulator);
  let backend: Backend;
  before(async () => {
    backend = await suite.backend(() =>
      startBackend((_req, res) => {
        setTimeout(() => res.end(JSON.stringify({ port: backend.port })), CALL_MS);
      }),
    );
  });

  it('regression: the watch retrying against a hung agent does not keep the process alive', async () => {
    // The first read fails at once (createMesh goes on with its bootstrap); every retry hangs,
    // the first of them while the script's call is still running.
    suite.consul.faults.failNext(1, 500, 'No cluster leader');
    suite.consul.faults.hangNext(1000);
    const control = `consul://127.0.0.1:${suite.consul.port}/hung`;
    const bootstrap = { services: { api: { endpoints: [backend.address] } } };
    const { stdout } = await runScriptToExit(SCRIPT, [control, JSON.stringify(bootstrap)], { killAfterMs: KILLED_AFTER_MS, heldBy: 'the KV watch retrying against a hung agent' });
    assert.deepEqual(lastJsonLine(stdout), { result: backend.port, status: 'unavailable' });
    assert.ok(suite.consul.requests.filter((request) => request.path === '/v1/kv/hung/').length >= 2, 'the watch did retry (and hang)');
  });
});
