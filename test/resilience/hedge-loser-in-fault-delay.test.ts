/**
 * Regression (issue 8 review, finding 2): a hedge loser aborted while it waited in an injected
 * fault delay went on afterwards: the delay slept on the call's signal, not on the attempt the
 * race aborts, and the attempt layer checked only that signal, so the aborted attempt reached
 * the balancer (an endpoint picked, load counted) and the transport. An aborted attempt must
 * never reach what sits below the attempt layer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { attemptLayer } from '../../src/resilience/attempt.ts';
import { faultLayer } from '../../src/resilience/fault.ts';
import { hedgeLayer } from '../../src/resilience/hedge.ts';
import { createRetryBudget } from '../../src/resilience/retry-budget.ts';
import type { Attempt } from '../../src/core/attempt.ts';
import type { MeshResponse, Service } from '../../src/core/service.ts';
import { ctxFor, envFor, get, policyFor } from './layer-harness.ts';

const DELAY_MS = 80;

/** hedge -> fault (the first attempt delayed, the hedge not) -> attempt -> a recorder standing for the balancer. */
function stackOverRecorder() {
  const policy = policyFor({
    hedge: { after: { delay: 5 }, maxExtraLoad: 1, maxAttempts: 2 },
    fault: { abort: false, delay: { percent: 50, duration: DELAY_MS } },
    perTryTimeout: false,
  });
  const env = envFor(policy);
  const budget = createRetryBudget(policy, systemClock);
  const rolls = [0.1, 0.9]; // the first attempt is delayed, the hedge goes at once
  // Stands for the balancer: records each attempt it is handed and answers 200 at once.
  const contexts: Attempt[] = [];
  const below: Service & { contexts: Attempt[] } = {
    contexts,
    call(_request, attempt) {
      contexts.push(attempt);
      return Promise.resolve({ statusCode: 200, headers: {}, body: { dump: () => Promise.resolve() } } as unknown as MeshResponse);
    },
  };
  const layers = [hedgeLayer(policy.hedge, env, budget, true), faultLayer(policy.fault, env, () => rolls.shift() ?? 0.9), attemptLayer(policy.perTryTimeout, env)];
  let service: Service = below;
  for (let i = layers.length - 1; i >= 0; i--) service = layers[i]!.wrap(service);
  return { service, below };
}

describe('a hedge loser aborted during an injected delay', () => {
  for (const [name, deadline] of [
    ['with a deadline (aborted through the attempt itself)', () => systemClock.now() + 2000],
    ['without a deadline (aborted through its own controller)', () => Number.POSITIVE_INFINITY],
  ] as const) {
    it(`${name}: the hedge wins and the loser never reaches the balancer`, async () => {
      const { service, below } = stackOverRecorder();
      const response = await service.call(get(), ctxFor(systemClock, undefined, deadline()));
      assert.equal(response.statusCode, 200);
      assert.equal(below.contexts.length, 1, 'the hedge went down');
      assert.equal(below.contexts[0]!.hedge, true);
      await new Promise((resolve) => setTimeout(resolve, DELAY_MS + 40));
      assert.equal(below.contexts.length, 1, 'the aborted loser went on after its delay');
    });
  }
});

describe('the attempt layer', () => {
  it('refuses an attempt already aborted through itself, with its reason, and hands nothing below', async () => {
    const policy = policyFor({});
    const contexts: Attempt[] = [];
    const service = attemptLayer(false, envFor(policy)).wrap({
      call(_request, attempt) {
        contexts.push(attempt);
        return Promise.resolve({ statusCode: 200 } as MeshResponse);
      },
    });
    const attempt = ctxFor(systemClock, undefined, systemClock.now() + 1000);
    const reason = new Error('superseded');
    attempt.abort(reason);
    await assert.rejects(service.call(get(), attempt), (error) => error === reason);
    assert.equal(contexts.length, 0);
  });
});
