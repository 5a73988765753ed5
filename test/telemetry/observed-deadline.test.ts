/**
 * An observed call keeps its deadline: while a diagnostics-channel subscriber listens, the
 * call-telemetry layer hands the layers below a copy of the call with its record attached
 * (call-telemetry.ts withRecord), and that copy must carry the call's deadline, signal and
 * start. Regression: the copy was a spread of the call, and the client's call keeps its
 * deadline in a getter (mesh/client-call.ts), which a spread leaves out: the attempt went out
 * with `x-meshlet-timeout-ms: NaN` and no time limit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMesh, type Mesh } from '../../src/index.ts';
import { isMeshError } from '../../src/core/errors.ts';
import { startBackend, type Backend } from '../support/http-backend.ts';

describe('an observed call', () => {
  let backend: Backend;
  let mesh: Mesh;
  const subscriber = (): void => {};

  before(async () => {
    backend = await startBackend(async (req, res) => {
      if (req.url === '/slow') await sleep(500);
      res.setHeader('x-seen-timeout', String(req.headers['x-meshlet-timeout-ms']));
      res.end('ok');
    });
    mesh = await createMesh({ service: 'checkout', config: { services: { payments: { endpoints: [backend.address], timeout: '1500ms', retry: false } } } });
    diagnosticsChannel.subscribe('meshlet:call:start', subscriber);
  });

  after(async () => {
    diagnosticsChannel.unsubscribe('meshlet:call:start', subscriber);
    await mesh.close();
    await backend.close();
  });

  it('sends the time it has left', async () => {
    const response = await mesh.client('payments').request({ path: '/' });
    await response.body.dump();
    assert.equal(response.headers['x-seen-timeout'], '1500');
  });

  it('times out at its deadline', async () => {
    const started = performance.now();
    await assert.rejects(mesh.client('payments').request({ path: '/slow', timeout: 100 }), (error: unknown) => isMeshError(error) && error.code === 'MESH_TIMEOUT');
    assert.ok(performance.now() - started < 450, 'the deadline, not the backend, ended the call');
  });
});
