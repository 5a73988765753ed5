/**
 * Registration never holds a process open (issue 15's liveness rule): a script that
 * registers and ends without close() exits on its own, heartbeats and all; one that closes
 * exits too, with its instance deregistered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lastJsonLine, runScriptToExit } from '../support/child-script.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { type TestConsul, consulForTests } from '../support/consul.ts';

const SCRIPT = new URL('./consul-registration-liveness/register-and-leave.ts', import.meta.url).pathname;
const KILLED_AFTER_MS = 15_000;

async function runScript(url: string, ending: 'close' | 'leave'): Promise<{ status: string }[]> {
  const { stdout } = await runScriptToExit(SCRIPT, [url, ending], { killAfterMs: KILLED_AFTER_MS, heldBy: 'the registration' });
  return lastJsonLine(stdout);
}

describe('registration and process liveness', { skip: process.env.CONSUL_HTTP_ADDR ? 'the script is given the emulator' : false }, () => {
  let consul: TestConsul;
  before(async () => {
    consul = await consulForTests();
  });
  after(() => consul.close());

  it('a script that registers and never calls close() still exits 0 on its own', async () => {
    const started = performance.now();
    const [state] = await runScript(consul.url, 'leave');
    assert.equal(state?.status, 'passing');
    assert.ok(performance.now() - started < 10_000);
    // Still registered: nothing deregistered it; Consul's TTL will mark it critical.
    const health = (await call(consul.url, 'GET', '/v1/health/service/reg-liveness')).json<unknown[]>();
    assert.equal(health.length, 1);
    await consul.catalog.deregister('reg-liveness-9100');
  });

  it('a script that closes its mesh exits 0 with the instance deregistered', async () => {
    const [state] = await runScript(consul.url, 'close');
    assert.equal(state?.status, 'deregistered');
    assert.deepEqual((await call(consul.url, 'GET', '/v1/health/service/reg-liveness')).json(), []);
  });
});
