/**
 * Regression (issue 15's rule, registration): the heartbeat ran on background timers, but its
 * requests (a TTL update, or registering again after a failure) held a call timer, so while
 * the agent hung (accepting connections, answering nothing) a script that never called
 * close() and finished while a heartbeat was out stayed alive for that request's whole 10 s
 * timeout. Only the first registration, which register() awaits, may hold the process now.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lastJsonLine, runScriptToExit } from '../support/child-script.ts';
import { type ConsulEmulator, startConsulEmulator } from '../support/consul-emulator/index.ts';

const SCRIPT = new URL('./consul-registration-liveness/register-and-leave.ts', import.meta.url).pathname;
/** Far longer than the script needs (~1 s), shorter than the hung heartbeat's 10 s timeout. */
const KILLED_AFTER_MS = 8000;

describe('regression: a registered script exits while the agent hangs its heartbeats', () => {
  let consul: ConsulEmulator;
  before(async () => {
    consul = await startConsulEmulator();
  });
  after(() => consul.close());

  it('regression: a heartbeat hung by the agent does not keep the process alive', async () => {
    // The first registration fails at once (register() resolves, retrying); the retry, a heartbeat, hangs.
    consul.faults.failNext(1, 500, 'No cluster leader');
    consul.faults.hangNext(1000);
    const { stdout } = await runScriptToExit(SCRIPT, [consul.url, 'leave'], { killAfterMs: KILLED_AFTER_MS, heldBy: 'a heartbeat request hung by the agent' });
    const [state] = lastJsonLine<{ status: string }[]>(stdout);
    assert.equal(state?.status, 'unreachable');
    assert.ok(consul.requests.filter((request) => request.path === '/v1/agent/service/register').length >= 2, 'the heartbeat did retry (and hang)');
  });
});
