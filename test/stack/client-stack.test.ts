/**
 * Pins the client stack's declared order and the rule that a layer whose feature is not
 * configured is absent: its wrap hands back the inner service itself, so an unconfigured
 * feature costs nothing per call. Built only through the stack's exported API.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServicePolicy } from '../../src/config/policy.ts';
import type { Service } from '../../src/core/service.ts';
import { policyWith } from '../support/policy.ts';
import { layerNamed, layersFor } from './layers.ts';
import { DEFAULT_RETRY, hedgePolicy } from '../resilience/retry-harness.ts';

/** Never called: the tests only compare identities. */
const inner: Service = {
  call: () => Promise.reject(new Error('inner must not be called by these tests')),
} as unknown as Service;

/** Each switchable layer, the policy key that switches it, and a value that turns it on. */
const switchable: ReadonlyArray<readonly [layer: string, on: Partial<ServicePolicy>]> = [
  ['rate-limit', { rateLimit: { rps: 5, burst: 3, scope: 'local', redis: undefined } }],
  ['concurrency', { concurrency: { adaptive: false, max: 2, queue: 0, queueTimeout: 1000 } }],
  ['breaker', { breaker: { errorRate: 0.5, minRequests: 4, window: 1000, openFor: 150 } }],
  ['retry', { retry: DEFAULT_RETRY }],
  ['hedge', { hedge: hedgePolicy({ delay: 10 }) }],
  ['fault', { fault: { abort: { percent: 50, status: 500 }, delay: false } }],
];

describe('client stack', () => {
  it('declares its layers outermost first in the documented order', () => {
    assert.deepEqual(
      layersFor(policyWith()).map((l) => l.name),
      ['deadline', 'rate-limit', 'concurrency', 'breaker', 'retry', 'hedge', 'fault', 'attempt', 'balancer'],
    );
  });

  // Not switchable: with timeout and perTryTimeout off, the deadline layer still clips to an
  // inbound deadline and the attempt layer still sends each attempt's headers.
  for (const name of ['deadline', 'attempt', 'balancer']) {
    it(`the ${name} layer wraps even when timeout and perTryTimeout are off`, () => {
      assert.notEqual(layerNamed(name, policyWith({ timeout: false, perTryTimeout: false })).wrap(inner), inner);
    });
  }

  for (const [name, on] of switchable) {
    it(`the ${name} layer is absent (wrap returns inner itself) when its feature is off`, () => {
      assert.equal(layerNamed(name, policyWith()).wrap(inner), inner);
    });

    it(`the ${name} layer wraps when its feature is on`, () => {
      assert.notEqual(layerNamed(name, policyWith(on)).wrap(inner), inner);
    });
  }
});

/** A transport stand-in with the callback form, never called: the tests only look at shapes. */
const sendingInner: Service = {
  call: inner.call,
  send: () => {
    throw new Error('inner must not be called by these tests');
  },
};

describe('client stack: the callback form (one promise per call)', () => {
  it('a default stack offers send at every layer down to the transport', () => {
    let service = sendingInner;
    for (const layer of [...layersFor(policyWith())].reverse()) {
      service = layer.wrap(service);
      assert.equal(typeof service.send, 'function', `the stack from '${layer.name}' down has no callback form`);
    }
  });

  it('a layer that waits (the breaker) offers only call, and the layers above it follow', () => {
    const layers = layersFor(policyWith({ breaker: { errorRate: 0.5, minRequests: 4, window: 1000, openFor: 150 } }));
    let service = sendingInner;
    const sends = new Map<string, boolean>();
    for (const layer of [...layers].reverse()) {
      service = layer.wrap(service);
      sends.set(layer.name, service.send !== undefined);
    }
    assert.deepEqual(
      [...sends].reverse().map(([name, send]) => `${name}:${send}`),
      ['deadline:false', 'rate-limit:false', 'concurrency:false', 'breaker:false', 'retry:true', 'hedge:true', 'fault:true', 'attempt:true', 'balancer:true'],
    );
  });
});
