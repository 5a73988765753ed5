/**
 * Regression guard: telemetry never fails a call. A propagator that throws (a user's custom
 * one, a buggy SDK) costs the attempt its span context and nothing else: the call answers,
 * and the bug surfaces on its own (an uncaught exception from a microtask), not as the call's
 * result. Its own file: it installs a broken global propagator.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { propagation } from '@opentelemetry/api';
import { createMesh } from '../../src/index.ts';
import { startBackend } from '../support/http-backend.ts';
import { installSdk } from './otel-sdk.ts';

installSdk({ metrics: false });
// The api refuses a second registration: the SDK helper's W3C propagator goes first.
propagation.disable();
propagation.setGlobalPropagator({
  inject: () => {
    throw new Error('propagator bug');
  },
  extract: (context) => context,
  fields: () => [],
});

it('a throwing propagator does not fail the call; the bug is reported on its own', async () => {
  const reported: unknown[] = [];
  const onUncaught = (error: unknown) => reported.push(error);
  const listeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', onUncaught);
  const backend = await startBackend();
  const mesh = await createMesh({ service: 'c', config: { services: { api: { endpoints: [backend.address] } } } });
  try {
    const response = await mesh.client('api').request({ path: '/' });
    assert.equal(response.statusCode, 200);
    await response.body.text();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(reported.length, 1);
    assert.match(String(reported[0]), /propagator bug/);
  } finally {
    process.removeListener('uncaughtException', onUncaught);
    for (const listener of listeners) process.on('uncaughtException', listener);
    await mesh.close();
    await backend.close();
  }
});
