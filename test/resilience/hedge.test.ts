/**
 * Hedging over real loopback servers: a slow first attempt is overtaken by a hedge, the
 * loser's connection is aborted (the server sees it), and calls that are not safe to send
 * twice are never hedged. When the hedge starts is logic, so those tests drive a ManualClock.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import type { HedgePolicy } from '../../src/config/policy.ts';
import { type Clock, ManualClock, type TimerHandle } from '../../src/core/clock.ts';
import { triggerPercentile } from '../../src/resilience/hedge.ts';
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
/**
 * Two backends that answer at once, except the next request `slowNext` names (by path, or
 * any): a hedge loser of an earlier call still arriving must not take the slow answer.
 */
async function pair(slowMs: number): Promise<{ backends: Backend[]; slowNext(path?: string): void; total(): number; aborted(): number }> {
  let slow = false;
  let slowPath: string | undefined;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (slow && (slowPath === undefined || req.url === slowPath)) {
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
    slowNext: (path?: string) => {
      slow = true;
      slowPath = path;
    },
    total: () => backends[0]!.received.length + backends[1]!.received.length,
    aborted: () => backends[0]!.aborted + backends[1]!.aborted,
  };
}

function stack(backends: Backend[], hedge: HedgePolicy, clock?: Clock): TestStack {
  const s = buildStack(testPolicy({ endpoints: backends.map((b) => b.address), hedge }), clock);
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
    await warm(s, 10);
    // Listening after the warm-up: on a loaded machine a warm-up call may itself pass 30 ms and hedge.
    const hedges: number[] = [];
    s.events.on('hedge', (e) => hedges.push(e.attempt));
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

  it('aborts the loser of a call without a deadline too', async () => {
    const p = await pair(2_000);
    const s = buildStack(testPolicy({ endpoints: p.backends.map((b) => b.address), hedge: hedgePolicy({ delay: 30 }), timeout: false }));
    open.push(s);
    await warm(s, 10);
    p.slowNext();
    const res = await s.call({ path: '/slow' });
    assert.equal(await res.body.text(), 'fast');
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
    p.slowNext('/hot');
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

  it('raises a percentile that would hedge more calls than maxExtraLoad allows', () => {
    assert.equal(triggerPercentile(90, 0.05), 95, 'p90 hedges 10% of calls: under a 5% cap, wait for p95');
    assert.equal(triggerPercentile(95, 0.05), 95);
    assert.equal(triggerPercentile(99, 0.05), 99, 'a later trigger already fits');
  });
});

/**
 * Node starts a timer from the event loop's cached time, so under load it fires early: this
 * clock fires every timer up to `lagMs` early (never sooner than 1 ms, as Node's timers).
 */
class EarlyTimerClock extends ManualClock {
  readonly #lagMs: number;

  constructor(lagMs: number) {
    super();
    this.#lagMs = lagMs;
  }

  override setTimer(fn: () => void, ms: number): TimerHandle {
    return super.setTimer(fn, Math.max(1, ms - this.#lagMs));
  }
}

describe('hedge timing', () => {
  /**
   * A stack on `clock` hedging after 20 ms, and a call on it whose first attempt hangs: returns
   * once a backend has that attempt, with the hedges' times, the call's start and its answer.
   */
  async function hungCall(
    clock: ManualClock,
    maxExtraLoad: number,
  ): Promise<{ s: TestStack; hedgedAt: number[]; start: number; answer: Promise<string> }> {
    const p = await pair(2_000);
    const s = stack(p.backends, hedgePolicy({ delay: 20 }, maxExtraLoad), clock);
    const hedgedAt: number[] = [];
    s.events.on('hedge', () => hedgedAt.push(clock.now()));
    await warm(s, 4);
    const before = p.total();
    p.slowNext('/slow');
    const answer = s.call({ path: '/slow' }).then((res) => res.body.text());
    await until(() => p.total() > before);
    return { s, hedgedAt, start: clock.now(), answer };
  }

  it('regression: a timer that fires early does not start the hedge before the delay', async () => {
    const clock = new EarlyTimerClock(8);
    const { hedgedAt, start, answer } = await hungCall(clock, 1);
    clock.advance(12);
    assert.deepEqual(hedgedAt, [], 'the timer fired 8 ms early: too soon to hedge');
    clock.advance(7);
    assert.deepEqual(hedgedAt, []);
    clock.advance(1);
    assert.deepEqual(hedgedAt, [start + 20]);
    assert.equal(await answer, 'fast');
  });

  it('regression: a hedge the budget refuses is deferred, not dropped', async () => {
    const clock = new ManualClock();
    // maxExtraLoad 0.05 of the few calls made: no hedge is affordable at first.
    const { s, hedgedAt, start, answer } = await hungCall(clock, 0.05);
    clock.advance(20);
    assert.deepEqual(hedgedAt, [], 'refused: 5% of 5 calls is no hedge');
    for (let i = 0; i < 20; i++) s.budget.deposit();
    clock.advance(19);
    assert.deepEqual(hedgedAt, [], 'the budget is asked again only after another delay');
    clock.advance(1);
    assert.deepEqual(hedgedAt, [start + 40], 'the call still stuck gets its hedge once the budget allows');
    assert.equal(await answer, 'fast');
  });

  it('asks a refusing budget again at doubling intervals', async () => {
    const clock = new ManualClock();
    const { s, hedgedAt, start, answer } = await hungCall(clock, 0.05);
    clock.advance(40); // refused at 20 and at 40; the next look is at 80
    for (let i = 0; i < 20; i++) s.budget.deposit();
    clock.advance(39);
    assert.deepEqual(hedgedAt, []);
    clock.advance(1);
    assert.deepEqual(hedgedAt, [start + 80]);
    assert.equal(await answer, 'fast');
  });
});
