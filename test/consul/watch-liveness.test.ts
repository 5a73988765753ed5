/**
 * A running watch never keeps a process alive, and an awaited request always does (issue
 * 15): the script in liveness/consul-script.ts awaits a write the agent answers late, starts
 * a watch and never stops it; it must print what it saw and exit 0 while its blocking query
 * is still parked at the agent (or while the watch waits out a backoff).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastJsonLine, runScriptToExit } from '../support/child-script.ts';
import { json, startScriptedAgent, text } from './scripted-agent.ts';
import { consulTeardown } from './teardown.ts';

const SCRIPT = new URL('./liveness/consul-script.ts', import.meta.url).pathname;
/** Far longer than the script needs; far shorter than the 60 s wait its watch parks on. */
const KILLED_AFTER_MS = 15_000;

async function runScript(url: string, mode = 'watch'): Promise<{ written: boolean; seen: string[] }> {
  const { stdout } = await runScriptToExit(SCRIPT, [url, mode], {
    killAfterMs: KILLED_AFTER_MS,
    exitNote: '(13: an awaited request had nothing keeping the process alive)',
  });
  return lastJsonLine(stdout);
}

describe('Consul client and watch liveness', () => {
  const teardown = consulTeardown();

  it('a script with a running watch and no stop() exits on its own; its late-answered write settled first', async () => {
    const agent = await startScriptedAgent((req, res) => {
      if (req.method === 'PUT') setTimeout(() => res.end('true'), 300); // the awaited call must keep the process alive
      else if (req.query.get('index') === null) json(res, [], 7);
      // blocking rounds park: the agent holds them for the whole wait
    });
    teardown.agent(agent);
    const started = performance.now();
    const result = await runScript(agent.url);
    assert.deepEqual(result, { written: true, seen: ['change 7'] });
    assert.ok(agent.requests.some((r) => r.query.get('index') === '7'), 'the watch had a blocking query parked when the script exited');
    assert.ok(performance.now() - started < KILLED_AFTER_MS);
  });

  it('a script whose watch is backing off from errors exits on its own', async () => {
    const agent = await startScriptedAgent((req, res) => (req.method === 'PUT' ? res.end('true') : text(res, 500, 'No cluster leader')));
    teardown.agent(agent);
    const result = await runScript(agent.url);
    assert.deepEqual(result, { written: true, seen: ['error 500'] });
  });

  it('a background read the agent never answers does not hold the script for its 5 s timeout', async () => {
    const agent = await startScriptedAgent(() => {});
    teardown.agent(agent);
    const started = performance.now();
    await runScript(agent.url, 'background-read');
    const took = performance.now() - started;
    assert.equal(agent.requests.length, 1, 'the read reached the agent');
    assert.ok(took < 4000, `the script took ${took} ms (a call timer would hold it 5 s)`);
  });
});
