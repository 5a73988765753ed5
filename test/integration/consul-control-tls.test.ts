/**
 * The Consul KV control store over https: `consul+https://` with the agent's CA from the
 * `consul.ca` option reads and watches KV through TLS; an agent whose certificate does not
 * chain to that CA is unavailable (the bootstrap config serves), never trusted. The agent is
 * the emulator behind a TLS-terminating loopback proxy (test/support/tls.ts certificates).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createMesh } from '../../src/index.ts';
import { startConsulEmulator, type ConsulEmulator } from '../support/consul-emulator/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { testCertificates } from '../support/tls.ts';
import { configState, eventually, nextEvent, outcome, portBackend } from './consul-control-harness.ts';

describe('Consul KV control over https', () => {
  let consul: ConsulEmulator;
  let proxy: Server;
  let port: number;
  let a: Backend;
  let b: Backend;
  const sockets = new Set<Socket>();
  before(async () => {
    consul = await startConsulEmulator();
    a = await portBackend();
    b = await portBackend();
    const { serverCert, serverKey } = testCertificates();
    proxy = createServer({ cert: serverCert, key: serverKey }, (socket) => {
      const upstream = connect(consul.port, '127.0.0.1');
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    port = (proxy.address() as { port: number }).port;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => proxy.close(resolve));
    await consul.close();
    await a.close();
    await b.close();
  });

  it('consul+https:// with the CA from the consul option reads and watches KV', async () => {
    await consul.kv.put('tls/services/api', JSON.stringify({ endpoints: [a.address] }));
    const mesh = await createMesh({ service: 'web', control: `consul+https://localhost:${port}/tls`, consul: { ca: testCertificates().ca } });
    try {
      assert.equal(await outcome(mesh, 'api'), a.port);
      assert.equal(configState(mesh).control.source, `consul://localhost:${port}/tls`);
      const applied = nextEvent(mesh, 'config');
      await consul.kv.put('tls/services/api', JSON.stringify({ endpoints: [b.address] }));
      await applied;
      await eventually(async () => (await outcome(mesh, 'api')) === b.port, 'the pushed endpoint in force');
    } finally {
      await mesh.close();
    }
  });

  it('an agent certificate that does not chain to the given CA is unavailable, not trusted', async () => {
    await consul.kv.put('tls-untrusted/services/api', JSON.stringify({ endpoints: [b.address] }));
    const mesh = await createMesh({
      service: 'web',
      control: `consul+https://localhost:${port}/tls-untrusted`,
      consul: { ca: testCertificates().otherCa },
      config: { services: { api: { endpoints: [a.address] } } },
    });
    try {
      const state = configState(mesh);
      assert.equal(state.control.status, 'unavailable');
      assert.equal(state.source, 'bootstrap');
      assert.equal(await outcome(mesh, 'api'), a.port);
    } finally {
      await mesh.close();
    }
  });
});
