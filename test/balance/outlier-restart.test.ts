/**
 * Regression for issue 9, defect 11 (outlier part): a backend that restarts stayed ejected
 * for the full 30 s although it answered again. Real loopback servers, the default config
 * (outlier ejection on, 30 s ejectFor): the backend goes down, is ejected, comes back on the
 * same port, and must be called again within seconds.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMesh } from '../../src/index.ts';
import { startBackend } from '../support/http-backend.ts';

interface EndpointState {
  id: string;
  healthy: boolean;
}

test('a backend that restarts stays ejected for the full 30 s although it answers again: it is called again within 5 s', async (t) => {
  const backends = await Promise.all([startBackend(), startBackend(), startBackend()]);
  const restarting = backends[0]!;
  const mesh = await createMesh({ service: 'checkout', config: { services: { api: { endpoints: backends.map((b) => b.address) } } } });
  const endpointsState = (): EndpointState[] => (mesh.state() as { services: { api: { endpoints: EndpointState[] } } }).services.api.endpoints;
  const restartingHealthy = (): boolean | undefined => endpointsState().find((e) => e.id === restarting.address)?.healthy;
  const call = async (): Promise<void> => {
    const res = await mesh.client('api').request({ method: 'GET', path: '/' });
    assert.equal(res.statusCode, 200, 'a refused attempt is retried on another backend');
    await res.body.dump();
  };
  let restarted: Server | undefined;
  try {
    for (let i = 0; i < 30; i++) await call();
    assert.ok(restarting.received.length > 0);

    await restarting.close();
    for (let i = 0; i < 200 && restartingHealthy() !== false; i++) await call();
    assert.equal(restartingHealthy(), false, 'ejected after refusing connections');

    let answered = 0;
    restarted = createServer((_req, res) => {
      answered++;
      res.end('back');
    });
    await new Promise<void>((resolve) => restarted!.listen(restarting.port, '127.0.0.1', resolve));
    const back = performance.now();
    while (answered === 0 && performance.now() - back < 10_000) {
      await call();
      await sleep(10);
    }
    const elapsed = performance.now() - back;
    t.diagnostic(`called again ${Math.round(elapsed)} ms after the restart`);
    assert.ok(answered > 0 && elapsed < 5_000, `the restarted backend answered ${answered} calls in ${Math.round(elapsed)} ms`);
    assert.equal(restartingHealthy(), true, 're-admitted, not only tried');
  } finally {
    await mesh.close();
    restarted?.closeAllConnections();
    await new Promise<void>((resolve) => (restarted === undefined ? resolve() : restarted.close(() => resolve())));
    await Promise.all(backends.slice(1).map((b) => b.close()));
  }
});
