/**
 * The retry budget: its arithmetic on a manual clock, and the property it exists for — a
 * backend that fails every call sees about (1 + ratio) times its traffic, not `attempts`
 * times — on a real loopback server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.ts';
import type { RetryBudgetPolicy } from '../../src/config/policy.ts';
import { createRetryBudget, type RetryBudget } from '../../src/resilience/retry-budget.ts';
import { startBackend } from '../support/http-backend.ts';
import { buildStack, DEFAULT_RETRY, hedgePolicy, testPolicy } from './retry-harness.ts';

function budgetOf(clock: ManualClock, budget: RetryBudgetPolicy | false, maxExtraLoad?: number): RetryBudget {
  const policy = testPolicy({
    endpoints: ['127.0.0.1:1'],
    retry: { ...DEFAULT_RETRY, budget },
    hedge: maxExtraLoad === undefined ? false : hedgePolicy({ delay: 10 }, maxExtraLoad),
  });
  return createRetryBudget(policy, clock);
}

function withdrawals(budget: RetryBudget, tries = 1_000): number {
  let granted = 0;
  for (let i = 0; i < tries; i++) if (budget.tryWithdraw()) granted++;
  return granted;
}

describe('retry budget', () => {
  it('allows ratio × calls retries, plus the per-second reserve', () => {
    const clock = new ManualClock();
    const budget = budgetOf(clock, { ratio: 0.2, minPerSecond: 1, window: 10_000 });
    for (let i = 0; i < 100; i++) budget.deposit();
    assert.equal(withdrawals(budget), 20 + 10);
    assert.equal(budget.state().available, 0);
  });

  it('forgets calls and retries that left the window', () => {
    const clock = new ManualClock();
    const budget = budgetOf(clock, { ratio: 0.2, minPerSecond: 0, window: 10_000 });
    for (let i = 0; i < 100; i++) budget.deposit();
    assert.equal(withdrawals(budget), 20);
    clock.advance(5_000);
    for (let i = 0; i < 50; i++) budget.deposit();
    assert.equal(withdrawals(budget), 10, '0.2 × 150 calls − 20 spent');
    clock.advance(5_500);
    // The first 100 calls and the first 20 retries are out of the window now.
    assert.equal(budget.state().calls, 50);
    assert.equal(withdrawals(budget), 0, '0.2 × 50 − 10 spent');
    clock.advance(20_000);
    assert.deepEqual(budget.state(), { enabled: true, calls: 0, retries: 0, hedges: 0, available: 0 });
  });

  it('caps hedges at maxExtraLoad of calls, and counts them against the retry budget', () => {
    const clock = new ManualClock();
    const budget = budgetOf(clock, { ratio: 0.1, minPerSecond: 0, window: 10_000 }, 0.05);
    for (let i = 0; i < 100; i++) budget.deposit();
    let hedges = 0;
    for (let i = 0; i < 100; i++) if (budget.tryWithdrawHedge()) hedges++;
    assert.equal(hedges, 5);
    assert.equal(withdrawals(budget), 5, '10 retries minus the 5 hedges');
  });

  it('always allows when no budget and no hedging are configured', () => {
    const budget = budgetOf(new ManualClock(), false);
    assert.equal(withdrawals(budget), 1_000);
    assert.equal(budget.state().enabled, false);
  });

  it('still caps hedges when retries have no budget', () => {
    const budget = budgetOf(new ManualClock(), false, 0.1);
    for (let i = 0; i < 50; i++) budget.deposit();
    assert.equal(withdrawals(budget), 1_000);
    let hedges = 0;
    for (let i = 0; i < 50; i++) if (budget.tryWithdrawHedge()) hedges++;
    assert.equal(hedges, 5);
  });

  it('holds a 100%-failing backend to about 1 + ratio attempts per call', async () => {
    const backend = await startBackend((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const retry = { ...DEFAULT_RETRY, attempts: 3, backoff: { base: 0, max: 0 }, budget: { ratio: 0.2, minPerSecond: 1, window: 10_000 } };
    const stack = buildStack(testPolicy({ endpoints: [backend.address], retry }));
    let exhausted = 0;
    stack.events.on('budget-exhausted', () => exhausted++);
    const calls = 500;
    try {
      for (let i = 0; i < calls; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            const res = await stack.call({ path: '/' });
            assert.equal(res.statusCode, 503);
            await res.body.dump();
          }),
        );
      }
      const perCall = backend.received.length / calls;
      // 0.2 from the ratio, 10/500 = 0.02 from the reserve; without a budget it would be 3.
      assert.ok(perCall >= 1.15 && perCall <= 1.25, `attempts per call ${perCall}`);
      assert.ok(exhausted > 300, `budget-exhausted events: ${exhausted}`);
    } finally {
      await stack.close();
      await backend.close();
    }
  });
});
