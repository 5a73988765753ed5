/**
 * Retries over real loopback servers that count what they receive: what is resent, what is
 * not (DESIGN §5), and what the caller gets when retries give up.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { isMeshError, TransportError } from '../../src/core/errors.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { buildStack, DEFAULT_RETRY, refusedAddress, type TestStack, testPolicy } from './retry-harness.ts';

const FAST_RETRY = { ...DEFAULT_RETRY, attempts: 3, backoff: { base: 1, max: 5 } };
const open: { close(): Promise<void> }[] = [];
after(() => Promise.all(open.map((o) => o.close())));

async function backend(handler?: Parameters<typeof startBackend>[0]): Promise<Backend> {
  const b = await startBackend(handler);
  open.push(b);
  return b;
}

function stack(endpoints: string[], retry = FAST_RETRY, timeout = 5_000): TestStack {
  const s = buildStack(testPolicy({ endpoints, retry, timeout }));
  open.push(s);
  return s;
}

function countRetries(s: TestStack): string[] {
  const reasons: string[] = [];
  s.events.on('retry', (e) => reasons.push(e.reason));
  return reasons;
}

const reset: Parameters<typeof startBackend>[0] = (req) => {
  req.socket.destroy();
};
const unavailable: Parameters<typeof startBackend>[0] = (_req, res) => {
  res.statusCode = 503;
  res.end('unavailable');
};

// Each test runs on both forms of the stack (core/service.ts): `call`, and `send`, the callback
// form a default stack runs every call on; they must behave the same.
for (const form of ['call', 'send'] as const) {
describe(`retry (${form})`, () => {
  it('delivers a POST whose connection was reset after the server read it exactly once', async () => {
    const a = await backend(reset);
    const b = await backend(reset);
    const s = stack([a.address, b.address]);
    await assert.rejects(s[form]({ method: 'POST', path: '/charge', body: 'order' }), (error: unknown) => {
      assert.ok(isMeshError(error));
      assert.equal(error.code, 'MESH_UPSTREAM_FAILED');
      assert.equal(error.attempts, 1);
      assert.ok(error.cause instanceof TransportError && error.cause.kind === 'reset');
      return true;
    });
    assert.equal(a.received.length + b.received.length, 1);
  });

  it('retries a POST refused at connect on another endpoint', async () => {
    const good = await backend();
    const s = stack([await refusedAddress(), good.address]);
    const reasons = countRetries(s);
    for (let i = 0; i < 4; i++) {
      const res = await s[form]({ method: 'POST', path: '/charge', body: `order-${i}` });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    assert.deepEqual(
      good.received.map((r) => r.body),
      ['order-0', 'order-1', 'order-2', 'order-3'],
    );
    assert.ok(reasons.length >= 1 && reasons.every((r) => r === 'connect-error'), `retries: ${reasons}`);
  });

  it('answers an idempotent GET from another endpoint when its endpoint dies mid-request', async () => {
    const dying = await backend(reset);
    const good = await backend();
    const s = stack([dying.address, good.address]);
    const reasons = countRetries(s);
    for (let i = 0; i < 4; i++) {
      const res = await s[form]({ method: 'GET', path: '/item' });
      assert.equal(res.statusCode, 200);
      assert.equal(((await res.body.json()) as { port: number }).port, good.port);
    }
    assert.ok(dying.received.length >= 1);
    assert.ok(reasons.includes('reset'));
  });

  it('retries a 503 and returns the success that follows', async () => {
    let calls = 0;
    const b = await backend((_req, res) => {
      res.statusCode = calls++ === 0 ? 503 : 200;
      res.end(String(calls));
    });
    const s = stack([b.address]);
    const res = await s[form]({ path: '/flaky' });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), '2');
    assert.equal(b.received.length, 2);
    assert.equal(b.received[0]!.headers['x-meshlet-attempt'], undefined);
    assert.equal(b.received[1]!.headers['x-meshlet-attempt'], '2');
  });

  it('gives the caller the last 503 response when attempts run out', async () => {
    let n = 0;
    const b = await backend((_req, res) => {
      res.statusCode = 503;
      res.end(`try ${++n}`);
    });
    const s = stack([b.address]);
    const res = await s[form]({ path: '/down' });
    assert.equal(res.statusCode, 503);
    assert.equal(await res.body.text(), 'try 3');
    assert.equal(b.received.length, 3);
  });

  it('fails with MESH_UPSTREAM_FAILED and the attempt count when every attempt is refused', async () => {
    const s = stack([await refusedAddress(), await refusedAddress()]);
    await assert.rejects(s[form]({ path: '/' }), (error: unknown) => {
      assert.ok(isMeshError(error));
      assert.equal(error.code, 'MESH_UPSTREAM_FAILED');
      assert.equal(error.attempts, 3);
      assert.ok(error.cause instanceof TransportError && error.cause.kind === 'connect-error');
      assert.match(error.message, /3 attempts/);
      return true;
    });
  });

  it('does not replay a streamed request body', async () => {
    const b = await backend(unavailable);
    const s = stack([b.address]);
    const res = await s[form]({
      method: 'PUT',
      path: '/upload',
      body: Readable.from(['part1', 'part2']),
      replayable: false,
    });
    assert.equal(res.statusCode, 503);
    await res.body.dump();
    assert.equal(b.received.length, 1);
    assert.equal(b.received[0]!.body, 'part1part2');
  });

  it('honours a bounded Retry-After and refuses one longer than maxRetryAfter', async () => {
    let calls = 0;
    const b = await backend((_req, res) => {
      res.statusCode = calls++ === 0 ? 503 : 200;
      res.setHeader('retry-after', '1');
      res.end();
    });
    const patient = stack([b.address], { ...FAST_RETRY, maxRetryAfter: 2_000 });
    const started = performance.now();
    const res = await patient[form]({ path: '/' });
    assert.equal(res.statusCode, 200);
    assert.ok(performance.now() - started >= 950, 'waited the second Retry-After asked for');

    calls = 0;
    const impatient = stack([b.address], { ...FAST_RETRY, maxRetryAfter: 500 });
    const refused = await impatient[form]({ path: '/' });
    assert.equal(refused.statusCode, 503);
    await refused.body.dump();

    calls = 0;
    const late = stack([b.address], { ...FAST_RETRY, maxRetryAfter: 2_000 }, 300);
    const clipped = await late[form]({ path: '/' });
    assert.equal(clipped.statusCode, 503, 'a Retry-After past the deadline ends the retries');
    await clipped.body.dump();
    assert.equal(b.received.length, 4);
  });
});
}
