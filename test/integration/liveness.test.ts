/**
 * A call in flight keeps the process alive, and an idle mesh does not (issue 15). Each test
 * runs liveness/one-shot-call.ts as a child process, the way a CLI, a cron job or a
 * serverless handler runs: the backends it calls live here, in the parent, so the child has
 * no handle of its own but the mesh's. Before the fix, a call whose only pending work was a
 * mesh timer (retry backoff, `Retry-After`, an injected delay) lost the process under it:
 * Node exited with code 13 ("unsettled top-level await") and the result was never printed.
 * NOTE: the hedged, queued and timed-out calls passed before the fix too: an attempt in
 * flight holds its socket, which undici keeps referenced while a request runs. They guard
 * the whole call settling in a bare process; that the hedge, slot and limit timers keep the
 * process alive on their own is asserted with ManualClock in test/core/expiry-queue.test.ts
 * (limits) and by the timers' kind in the code.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MeshConfig } from '../../src/index.ts';
import { lastJsonLine, runScriptToExit } from '../support/child-script.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import type { OneShotPlan, OneShotResult } from './liveness/one-shot-call.ts';

const SCRIPT = new URL('./liveness/one-shot-call.ts', import.meta.url).pathname;
/** Far longer than any call here; far shorter than the 60 s limits the idle test leaves armed. */
const CHILD_KILLED_AFTER_MS = 20_000;

/** Runs the one-shot script; resolves with the results it printed once it exited 0 on its own. */
async function runOneShot(plan: OneShotPlan): Promise<OneShotResult[]> {
  const { stdout } = await runScriptToExit(SCRIPT, [JSON.stringify(plan)], {
    killAfterMs: CHILD_KILLED_AFTER_MS,
    exitNote: '(13: Node found the call unsettled and nothing keeping it alive)',
  });
  return lastJsonLine<{ results: OneShotResult[] }>(stdout).results;
}

function oneService(policy: NonNullable<MeshConfig['services']>[string]): OneShotPlan {
  return { config: { services: { s: policy } }, calls: ['s'], close: true };
}

/** A loopback port with nothing listening: connecting to it is refused at once. */
async function refusedAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a one-shot script sees its call settle and exits 0', () => {
  const backends: Backend[] = [];
  const backend = async (handler?: Parameters<typeof startBackend>[0]): Promise<Backend> => {
    const started = await startBackend(handler);
    backends.push(started);
    return started;
  };

  after(async () => {
    await Promise.all(backends.map((b) => b.close()));
  });

  it('exits once close() resolved, though a response body was never read (its 60 s time limit must not hold the process)', async () => {
    const ok = await backend();
    const started = performance.now();
    const results = await runOneShot({ ...oneService({ endpoints: [ok.address], timeout: '60s' }), unreadBodies: true });
    assert.deepEqual(results, [{ status: 200 }]);
    // Before the fix the retired attempt layer's limit timer stayed referenced: the child lived
    // until the body's 60 s limit and was killed after 20 s.
    assert.ok(performance.now() - started < 15_000, 'the script exited well before the unread body\'s time limit');
  });

  it('retrying a refused endpoint: the backoff keeps the process alive', async () => {
    const [result] = await runOneShot(oneService({ endpoints: [await refusedAddress()], retry: { attempts: 3 } }));
    assert.deepEqual(result && 'code' in result ? [result.code, result.attempts] : result, ['MESH_UPSTREAM_FAILED', 3]);
  });

  it('an injected fault delay keeps the process alive', async () => {
    const healthy = await backend();
    const [result] = await runOneShot(oneService({ endpoints: [healthy.address], fault: { delay: { percent: 100, duration: '200ms' } } }));
    assert.deepEqual(result, { status: 200 });
    assert.equal(healthy.received.length, 1);
  });

  it('a hedged call settles on its hedge', async () => {
    let arrivals = 0;
    const firstSlow = await backend(async (_req, res) => {
      if (arrivals++ === 0) await delay(1000);
      res.end('ok');
    });
    const [result] = await runOneShot(oneService({ endpoints: [firstSlow.address], hedge: { after: '50ms', maxExtraLoad: 1 } }));
    assert.deepEqual(result, { status: 200 });
    assert.equal(firstSlow.received.length, 2, 'the hedge was sent');
  });

  it('a Retry-After retry: the sleep keeps the process alive', async () => {
    const busyOnce = await backend((_req, res) => {
      if (busyOnce.received.length === 1) {
        res.writeHead(503, { 'retry-after': '1' }).end();
        return;
      }
      res.end('ok');
    });
    const [result] = await runOneShot(oneService({ endpoints: [busyOnce.address] }));
    assert.deepEqual(result, { status: 200 });
    assert.equal(busyOnce.received.length, 2, 'retried after the 503');
  });

  it('a call queued for a concurrency slot', async () => {
    const slow = await backend(async (_req, res) => {
      await delay(200);
      res.end('ok');
    });
    const plan = oneService({ endpoints: [slow.address], concurrency: { max: 1, queue: 5 } });
    const results = await runOneShot({ ...plan, calls: ['s', 's'] });
    assert.deepEqual(results, [{ status: 200 }, { status: 200 }]);
    assert.equal(slow.received.length, 2);
  });

  it('a call that ends in MESH_TIMEOUT', async () => {
    const silent = await backend(() => {});
    const [result] = await runOneShot(oneService({ endpoints: [silent.address], timeout: '200ms', retry: false }));
    assert.equal(result && 'code' in result ? result.code : result, 'MESH_TIMEOUT');
  });
});

describe('an idle mesh lets a one-shot script exit', () => {
  let dir: string;
  let healthy: Backend;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshlet-liveness-'));
    healthy = await startBackend();
  });

  after(async () => {
    await healthy.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('exits on its own once its calls settled, without close(), with background timers armed', async () => {
    // Every background timer armed: the file store's poll and watch, an ejection's readmit
    // (the refused endpoint is ejected after one failure), DNS re-resolution, the breaker's
    // window, the rate limiter's, and attempt limits of 60 s that would hold the process
    // three times past the kill if their timer stayed referenced.
    const file = join(dir, 'mesh.json');
    const policy = { timeout: '60s', retry: { attempts: 3 }, outlier: { consecutiveFailures: 1 }, breaker: {}, rateLimit: { rps: 100 } };
    const config: MeshConfig = {
      services: {
        api: { ...policy, endpoints: [healthy.address, await refusedAddress()], balancer: 'round-robin' },
        names: { ...policy, discovery: { type: 'dns', name: 'localhost', port: healthy.port } },
      },
    };
    await writeFile(file, JSON.stringify(config));
    const results = await runOneShot({ control: `file:${file}`, calls: ['api', 'api', 'names'], close: false });
    assert.deepEqual(results, [{ status: 200 }, { status: 200 }, { status: 200 }]);
  });
});
