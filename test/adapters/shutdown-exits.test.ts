/**
 * A service shut down through its adapter leaves no handle open: in a child process, after the
 * shutdown order ran (deregister, stop admitting, drain, close the mesh and the server), the
 * process exits by itself at once, for each framework. The four run side by side.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { lastJsonLine, runScriptToExit } from '../support/child-script.ts';

const SCRIPT = fileURLToPath(new URL('./fixtures/serve-then-shutdown.ts', import.meta.url));
// Far longer than a loaded machine needs to load Nest and Fastify; a handle held open (Consul's
// 10 s TTL heartbeat, a call's 10 s time limit) shows in the exit delay below (< 3 s).
const KILL_AFTER_MS = 90_000;

it('after the adapter shutdown, the process exits by itself (Express, Fastify, Nest on Express, Nest on Fastify)', async () => {
  const runs = await Promise.all(
    ['express', 'fastify', 'nest-express', 'nest-fastify'].map(async (framework) => {
      const { stdout } = await runScriptToExit(SCRIPT, [framework], { killAfterMs: KILL_AFTER_MS, what: `the ${framework} service`, heldBy: 'a handle its shutdown left open' });
      return { framework, exitedAt: Date.now(), ...lastJsonLine<{ status: number; shutDownAt: number }>(stdout) };
    }),
  );
  for (const run of runs) {
    assert.equal(run.status, 200, run.framework);
    const lingered = run.exitedAt - run.shutDownAt;
    assert.ok(lingered < 3000, `${run.framework}: the process lived ${lingered} ms after its shutdown resolved`);
  }
});
