/**
 * The declared client stack's layers for a test policy, built only through clientLayers (the
 * stack's exported API), so layer tests do not depend on each factory's signature.
 */
import assert from 'node:assert/strict';
import type { ServicePolicy } from '../../src/config/policy.ts';
import { systemClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { Attempt } from '../../src/core/attempt.ts';
import { attemptFor } from '../support/attempt.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../../src/core/service.ts';
import { EndpointSet } from '../../src/balance/endpoint-set.ts';
import { createRetryBudget } from '../../src/resilience/retry-budget.ts';
import { clientLayers } from '../../src/stack/client-stack.ts';
import { createHttpDispatcher } from '../../src/transport/http/pool.ts';
import { policyWith } from '../support/policy.ts';

export function layersFor(policy: ServicePolicy): Layer[] {
  const events = new MeshEventEmitter();
  const set = new EndpointSet({ service: policy.name, policy, clock: systemClock, events, connect: (address) => createHttpDispatcher(address, policy) });
  return clientLayers({ policy, clock: systemClock, events, endpoints: { current: set }, budget: createRetryBudget(policy, systemClock) });
}

export function layerNamed(name: string, policy: ServicePolicy = policyWith()): Layer {
  const layer = layersFor(policy).find((l) => l.name === name);
  assert.ok(layer, `no layer named '${name}'`);
  return layer;
}

/** An inner service for one layer's tests: records each request and attempt it is handed and answers 200 at once. */
export function recorder(): Service & { requests: MeshRequest[]; contexts: Attempt[] } {
  const requests: MeshRequest[] = [];
  const contexts: Attempt[] = [];
  return {
    requests,
    contexts,
    call(req, ctx) {
      requests.push(req);
      contexts.push(ctx);
      return Promise.resolve({ statusCode: 200 } as MeshResponse);
    },
  };
}

/** A call's first attempt (or attempt `number`) with `ms` left on the system clock. */
export function ctxWithin(ms: number, signal?: AbortSignal, number = 1): Attempt {
  const now = systemClock.now();
  return attemptFor({ service: 'payments', startedAt: now, deadline: now + ms, signal, number });
}
