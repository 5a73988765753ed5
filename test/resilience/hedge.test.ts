/**
 * Hedging over real loopback servers: a slow first attempt is overtaken by a hedge, the
 * loser's connection is aborted (the server sees it), and calls that are not safe to send
 * twice are never hedged.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import type { HedgePolicy } from '../../src/config/policy.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { buildStack, hedgePolicy, type TestStack, testPolicy } from './retry-harness.ts';

const open: { close(): Promise<void> }[] = [];
after(() => Promise.all(open.map((o) => o.close())));

/** Answers after `ms`, unless the client goes away first. */
function answerAfter(res: ServerResponse, ms: number): void {
  const timer = setTimeout(() => res.end('slow'), ms);
  res.on('close', () => clearTimeout(timer));
}

/** Two backends sharing one switch: the next request to arrive (on either) is slow. */
async function pair(slowMs: number): Promise<{ backends: Backend[]; slowNext(): void; total(): number; aborted(): number }> {
  let slow = false;
  const handler = (_req: unknown, res: ServerResponse): void => {
    if (slow) {
      slow = false;
      answerAfter(res, slowMs);
      return;
    }
    res.end('fast');
  };
  const backends = [await startBackend(handler), await startBackend(handler)];
  open.push(...backends);
  return {
    backends,
    slowNext: () => {
      slow = true;
    },
    total: () => backends[0]!.received.length + backends[1]!.received.length,
    aborted: () => backends[0]!.aborted + backends[1]!.aborted,
  };
}

function stack(backends: Backend[], hedge: HedgePolicy): TestStack {
  const s = buildStack(testPolicy({ endpoints: backends.map((b) => b.address), hedge }));
  open.push(s);
  return s;
}

async function until(condition: () => boolean, ms = 1_000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition() && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Budget credit: hedges are a fraction of calls made, so make some first. */
async function warm(s: TestStack, calls: number): Promise<void> {
  for (let i = 0; i < calls; i++) await (await s.call({ path: '/warm' })).body.dump();
}

describe('hedging', () => {
  it('hedges a slow GET after the delay, answers from the hedge and aborts the loser', async () => {
    const p = await pair(2_000);
    const s = stack(p.backends, hedgePolicy({ delay: 30 }));
    const hedges: number[] = [];
    s.events.on('hedge', (e) => hedges.push(e.attempt));
    await warm(s, 10);
    const before = p.total();
    p.slowNext();
    const started = performance.now();
    const res = await s.call({ path: '/slow' });
    const elapsed = performance.now() - started;
    assert.equal(await res.body.text(), 'fast');
    assert.ok(elapsed >= 25 && elapsed < 500, `answered in ${elapsed} ms`);
    assert.deepEqual(hedges, [1]);
    assert.equal(p.total() - before, 2);
    const [first, second] = p.backends.map((b) => b.received.at(-1)!);
    assert.notEqual(first, undefined);
    assert.notEqual(second, undefined, 'the hedge went to the other endpoint');
    await until(() => p.aborted() === 1);
    assert.equal(p.aborted(), 1, 'the server saw the losing attempt aborted');
  });

  it('does not hedge a POST', async () => {
    const p = await pair(150);
    const s = stack(p.backends, hedgePolicy({ delay: 20 }));
    let hedges = 0;
    s.events.on('hedge', () => hedges++);
    await warm(s, 10);
    const before = p.total();
    p.slowNext();
    const started = performance.now();
    const res = await s.call({ method: 'POST', path: '/charge', body: 'x' });
    assert.equal(await res.body.text(), 'slow');
    assert.ok(performance.now() - started >= 140);
    assert.equal(hedges, 0);
    assert.equal(p.total() - before, 1);
  });

  it('hedges on the observed percentile only once warmed up', async () => {
    const p = await pair(300);
    const s = stack(p.backends, hedgePolicy({ percentile: 90 }, 0.5));
    let hedges = 0;
    s.events.on('hedge', () => hedges++);
    p.slowNext();
    const cold = await s.call({ path: '/cold' });
    assert.equal(await cold.body.text(), 'slow', 'no percentile yet: nothing to hedge on');
    assert.equal(hedges, 0);
    await warm(s, 80);
    const before = hedges;
    p.slowNext();
    const started = performance.now();
    const res = await s.call({ path: '/hot' });
    assert.equal(await res.body.text(), 'fast');
    assert.ok(performance.now() - started < 200);
    assert.ok(hedges > before);
    assert.ok(s.budget.state().hedges >= 1);
  });

  it('waits for the other attempt when one fails instead of returning the failure', async () => {
    const failsLate = await startBackend((_req, res) => {
      const timer = setTimeout(() => {
        res.statusCode = 503;
        res.end('down');
      }, 40);
      res.on('close', () => clearTimeout(timer));
    });
    const slowOk = await startBackend((_req, res) => answerAfter(res, 80));
    open.push(failsLate, slowOk);
    // No retry layer: the hedge layer itself tells the budget about calls.
    const s = buildStack(testPolicy({ endpoints: [failsLate.address, slowOk.address], hedge: hedgePolicy({ delay: 10 }, 1), retry: false }));
    open.push(s);
    for (let i = 0; i < 4; i++) {
      // Whichever endpoint the first attempt goes to, the 503 must not beat the later 200.
      const res = await s.call({ path: `/call-${i}` });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'slow');
    }
    assert.equal(failsLate.received.length, 4);
    assert.equal(slowOk.received.length, 4);
  });
});
