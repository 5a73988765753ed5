/**
 * The admin handler's life and failure paths, on a stand-in mesh: nothing subscribes to the
 * diagnostics channels before the first handler; a mesh's handlers share one collector, which
 * goes with the last close() or once state.json sees the mesh closed; a state() that throws is
 * a plain 500 that quotes nothing; and the peer check reads the socket, not the headers.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { createAdminHandler, type AdminMeshSource } from '../../src/admin/admin-handler.ts';
import { isLoopback } from '../../src/admin/admin-auth.ts';
import { attemptEndChannel, callEndChannel, endpointChannel } from '../../src/telemetry/channels.ts';
import { createMesh } from '../../src/index.ts';
import { startBackend } from '../support/http-backend.ts';

function fakeMesh(state: () => Record<string, unknown>, closed = () => false): AdminMeshSource & { listeners: number } {
  const source = {
    listeners: 0,
    state,
    closed,
    policies: () => [],
    on: () => {
      source.listeners++;
      return () => {
        source.listeners--;
      };
    },
  };
  return source;
}

/** A request as the handler reads it, and a response that records what it was sent. */
function exchange(url: string, remoteAddress: string, headers: Record<string, string> = {}): { req: IncomingMessage; res: ServerResponse; sent: { status: number; body: string; headers: Map<string, unknown> } } {
  const sent = { status: 0, body: '', headers: new Map<string, unknown>() };
  const req = { url, method: 'GET', headers, socket: { remoteAddress } } as unknown as IncomingMessage;
  const res = {
    headersSent: false,
    set statusCode(status: number) {
      sent.status = status;
    },
    setHeader: (name: string, value: unknown) => sent.headers.set(name, value),
    hasHeader: (name: string) => sent.headers.has(name),
    end: (body?: string) => {
      sent.body = body ?? '';
    },
  } as unknown as ServerResponse;
  return { req, res, sent };
}

const OPEN_STATE = () => ({ service: 'x', closed: false, config: {}, services: {} });
const subscribed = (): boolean[] => [callEndChannel.hasSubscribers, attemptEndChannel.hasSubscribers, endpointChannel.hasSubscribers];

describe('admin handler lifecycle', () => {
  it('subscribes with the first handler, shares one collector, and lets go with the last close()', () => {
    assert.deepEqual(subscribed(), [false, false, false], 'nothing listens before a handler exists');
    const mesh = fakeMesh(OPEN_STATE);
    const first = createAdminHandler(mesh, mesh);
    const second = createAdminHandler(mesh, mesh, { token: 'a-long-enough-token' });
    assert.deepEqual(subscribed(), [true, true, true]);
    const listeners = mesh.listeners;
    assert.ok(listeners > 0);
    first.close();
    first.close();
    assert.deepEqual(subscribed(), [true, true, true], 'the other handler still needs them');
    assert.equal(mesh.listeners, listeners);
    second.close();
    assert.deepEqual(subscribed(), [false, false, false]);
    assert.equal(mesh.listeners, 0);
  });

  it('lets go at the first message after the mesh closed, not counting it (handlers never closed)', () => {
    let closed = false;
    const mesh = fakeMesh(OPEN_STATE, () => closed);
    createAdminHandler(mesh, mesh);
    createAdminHandler(mesh, mesh);
    const message = { service: 'other-mesh-service', route: undefined, method: 'GET', startedAt: 0, durationMs: 1, statusCode: 200, outcome: 'success', errorCode: undefined, attempts: 1 };
    callEndChannel.publish(message);
    assert.deepEqual(subscribed(), [true, true, true]);
    closed = true;
    // Another mesh's call: the closed mesh's collector must not go on counting every call of the process.
    callEndChannel.publish(message);
    assert.deepEqual(subscribed(), [false, false, false]);
    assert.equal(mesh.listeners, 0);
  });

  it('a real mesh closed with its handler never closed stops being counted at the next call of another mesh', async () => {
    const backend = await startBackend();
    const config = { services: { 'life-pay': { endpoints: [backend.address] } } };
    const first = await createMesh({ service: 'life-a', config });
    const second = await createMesh({ service: 'life-b', config });
    try {
      first.adminHandler();
      assert.deepEqual(subscribed(), [true, true, true]);
      await first.close();
      await (await second.client('life-pay').request({ path: '/' })).body.text();
      assert.deepEqual(subscribed(), [false, false, false]);
    } finally {
      await first.close();
      await second.close();
      await backend.close();
    }
  });

  it('regression: mesh.close() ends its admin handler subscriptions at once, and a handler of a closed mesh subscribes nothing', async () => {
    const mesh = await createMesh({ service: 'life-close', config: { services: { 'life-pay': { endpoints: ['127.0.0.1:1'] } } } });
    try {
      mesh.adminHandler();
      assert.deepEqual(subscribed(), [true, true, true]);
      await mesh.close();
      // Before: the subscriptions stayed until some mesh's next call published a message, so
      // with no other traffic they stayed for good and every later mesh paid for its messages.
      assert.deepEqual(subscribed(), [false, false, false], 'no call after close() is needed');
      const late = mesh.adminHandler();
      assert.deepEqual(subscribed(), [false, false, false], 'a closed mesh collects nothing');
      late.close();
    } finally {
      await mesh.close();
    }
  });

  it('answers a state() that throws with a plain 500 quoting nothing', () => {
    const mesh = fakeMesh(() => {
      throw new Error('redis://:hunter2@10.0.0.5:6379 exploded');
    });
    const handler = createAdminHandler(mesh, mesh);
    try {
      const { req, res, sent } = exchange('/state.json', '::1');
      handler(req, res);
      assert.equal(sent.status, 500);
      assert.match(sent.body, /failed to build its answer/);
      assert.ok(!sent.body.includes('hunter2') && !sent.body.includes('10.0.0.5'));
      assert.equal(sent.headers.get('x-content-type-options'), 'nosniff');
    } finally {
      handler.close();
    }
  });

  it('regression (DNS rebinding): without a token, a loopback peer asking for a host that is not loopback is refused', () => {
    const mesh = fakeMesh(OPEN_STATE);
    const handler = createAdminHandler(mesh, mesh);
    try {
      // A page the admin's user opened rebinds evil.example to 127.0.0.1: the browser is a loopback peer, its Host is the page's.
      for (const host of ['evil.example', 'evil.example:9901', '127.0.0.1.evil.example', 'localhost.evil.example', '[::2]:9901', '10.0.0.1']) {
        const { req, res, sent } = exchange('/state.json', '127.0.0.1', { host });
        handler(req, res);
        assert.equal(sent.status, 403, host);
        assert.ok(!sent.body.includes('"services"'), host);
      }
      for (const host of ['127.0.0.1:9901', '127.0.0.1', 'localhost:9901', 'LOCALHOST', 'localhost.', 'admin.localhost:80', '[::1]:9901', '[::1]', undefined]) {
        const { req, res, sent } = exchange('/state.json', '::1', host === undefined ? {} : { host });
        handler(req, res);
        assert.equal(sent.status, 200, String(host));
      }
    } finally {
      handler.close();
    }
    const tokened = createAdminHandler(mesh, mesh, { token: 'a-long-enough-token' });
    try {
      const { req, res, sent } = exchange('/state.json', '10.0.0.7', { host: 'admin.example.com', authorization: 'Bearer a-long-enough-token' });
      tokened(req, res);
      assert.equal(sent.status, 200, 'with a token, any host that sends it');
    } finally {
      tokened.close();
    }
  });

  it("regression: a base64 token with '+' works in ?token= as typed (form decoding made it a space: 401)", () => {
    const token = 'Zm9v+YmFy/YmF6+cXV4==';
    const mesh = fakeMesh(OPEN_STATE);
    const handler = createAdminHandler(mesh, mesh, { token });
    try {
      for (const url of [`/state.json?token=${token}`, `/state.json?token=${encodeURIComponent(token)}`]) {
        const { req, res, sent } = exchange(url, '10.0.0.7');
        handler(req, res);
        assert.equal(sent.status, 200, url);
      }
      const { req, res, sent } = exchange('/state.json?token=Zm9v YmFy/YmF6 cXV4==', '10.0.0.7');
      handler(req, res);
      assert.equal(sent.status, 200, 'a space is read as the + it was');
      const wrong = exchange('/state.json?token=Zm9v+YmFy/YmF6+cXV5==', '10.0.0.7');
      handler(wrong.req, wrong.res);
      assert.equal(wrong.sent.status, 401);
    } finally {
      handler.close();
    }
  });

  it('judges the peer by the socket only: forwarding headers do not make a remote client local', () => {
    const mesh = fakeMesh(OPEN_STATE);
    const handler = createAdminHandler(mesh, mesh);
    try {
      for (const remote of ['10.0.0.7', '::ffff:10.0.0.7', '2001:db8::1', '128.0.0.1', '::ffff:128.0.0.1', undefined]) {
        const { req, res, sent } = exchange('/state.json', remote as string, { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1', forwarded: 'for=127.0.0.1' });
        handler(req, res);
        assert.equal(sent.status, 403, String(remote));
      }
      for (const local of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.2']) assert.equal(isLoopback(local), true, local);
      for (const other of ['127.0.0.1.evil', '127.0.0', '::ffff:10.0.0.1', '::2', '', 'localhost']) assert.equal(isLoopback(other), false, other);
    } finally {
      handler.close();
    }
  });
});
