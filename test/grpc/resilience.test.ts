/**
 * gRPC through the mesh: retries, the budget, the breaker, limits and the errors callers see.
 * Real grpc-js servers on loopback answering with the statuses under test.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh, isMeshError, type Mesh, runWithInbound } from '../../src/index.ts';
import type { MeshConfigInput } from '../../src/config/schema.ts';
import { type Any, type Handlers, type InventoryServer, type Item, InventoryClient, settle, startInventoryServer, unary } from './inventory-server.ts';

const servers: InventoryServer[] = [];
after(() => {
  for (const server of servers) server.kill();
});

type Policy = NonNullable<MeshConfigInput['services']>[string];

async function meshOver(handlers: Handlers, policy: Policy, count = 2): Promise<{ mesh: Mesh; client: Any; instances: InventoryServer[] }> {
  const instances = await Promise.all(Array.from({ length: count }, (_, i) => startInventoryServer(`s${i}`, handlers)));
  servers.push(...instances);
  const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: instances.map((s) => s.address), ...policy } } } });
  const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
  return { mesh, client, instances };
}

/** One instance whose GetItem always answers UNAVAILABLE, retried up to 5 times with this backoff; `refused()` counts its answers. */
async function alwaysUnavailable(backoff: { base: string; max: string }): Promise<{ mesh: Mesh; client: Any; instances: InventoryServer[]; refused: () => number }> {
  let refused = 0;
  const handlers = {
    GetItem: (_call: Any, callback: Any) => {
      refused++;
      callback({ code: grpc.status.UNAVAILABLE, details: 'overloaded' });
    },
  };
  return { ...(await meshOver(handlers, { retry: { attempts: 5, backoff } }, 1)), refused: () => refused };
}

const fail = (code: grpc.status, details = 'failing on purpose') => (_call: unknown, callback: (error: unknown) => void) => callback({ code, details });
const callsOf = (instances: InventoryServer[], method: string) => instances.reduce((sum, s) => sum + s.calls[method]!, 0);

/**
 * A GetItem call its caller cancels once `refusedYet()` holds (polled every `pollMs`), `delayMs`
 * after that (0: at once); `atCancel` runs just before the cancel. Resolves with the call's error.
 */
function cancelOnceRefused(client: Any, id: string, refusedYet: () => boolean, { pollMs = 2, delayMs = 0, atCancel }: { pollMs?: number; delayMs?: number; atCancel?: () => void } = {}): Promise<Any> {
  return new Promise<Any>((resolve) => {
    const call = client.GetItem({ id }, (failed: unknown) => resolve(failed));
    const cancel = (): void => {
      atCancel?.();
      call.cancel();
    };
    const waitForRefusal = (): void => {
      if (!refusedYet()) setTimeout(waitForRefusal, pollMs);
      else if (delayMs === 0) cancel();
      else setTimeout(cancel, delayMs);
    };
    waitForRefusal();
  });
}

async function failure(pending: Promise<unknown>): Promise<grpc.ServiceError & { cause?: unknown }> {
  const settled = await settle(pending);
  assert.equal(settled.ok, false, 'the call was expected to fail');
  return (settled as { error: grpc.ServiceError }).error;
}

describe('grpc resilience', () => {
  it('holds the retry budget under 100% UNAVAILABLE, drawing on the budget HTTP calls share', async () => {
    const { mesh, client, instances } = await meshOver(
      { GetItem: fail(grpc.status.UNAVAILABLE) },
      { retry: { attempts: 3, backoff: { base: '1ms', max: '2ms' }, budget: { ratio: 0.2, minPerSecond: 1, window: '10s' } } },
    );
    try {
      for (let i = 0; i < 100; i++) {
        const error = await failure(unary(client, 'GetItem', { id: `${i}` }));
        assert.equal(error.code, grpc.status.UNAVAILABLE);
      }
      const sent = callsOf(instances, 'GetItem');
      // 100 calls, 20% of them in retries, plus the reserve of 1/s over the 10 s window.
      assert.ok(sent >= 120 && sent <= 130, `the servers saw ${sent} attempts for 100 calls`);
      // The service's one budget (the object its HTTP calls draw on) counted every retry.
      const budget = (mesh.state() as Any).services.inventory.budget;
      assert.equal(budget.retries, sent - 100);
      assert.equal(budget.available, 0);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('retries an UNAVAILABLE the server sent before any response for any method; INTERNAL is not retried', async () => {
    let reserves = 0;
    const { mesh, client, instances } = await meshOver(
      {
        // The first Reserve anywhere is refused unprocessed; every GetItem fails internally.
        Reserve: (call: Any, callback: Any) => (reserves++ === 0 ? callback({ code: grpc.status.UNAVAILABLE, details: 'draining' }) : callback(null, { id: call.request.id, server: 'ok' })),
        GetItem: fail(grpc.status.INTERNAL),
      },
      { retry: { attempts: 3, backoff: { base: '1ms', max: '2ms' } } },
    );
    try {
      const reserved = await unary<Item>(client, 'Reserve', { id: 'r' });
      assert.equal(reserved.server, 'ok');
      assert.equal(callsOf(instances, 'Reserve'), 2, 'UNAVAILABLE before any response: sent again');
      // INTERNAL is not a retry condition at all; the server's status reaches the caller.
      const error = await failure(unary(client, 'GetItem', { id: 'g' }));
      assert.equal(error.code, grpc.status.INTERNAL);
      assert.equal(callsOf(instances, 'GetItem'), 1);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('retries DEADLINE_EXCEEDED from the server only for a method marked idempotent', async () => {
    const { mesh, client, instances } = await meshOver(
      { GetItem: fail(grpc.status.DEADLINE_EXCEEDED), Reserve: fail(grpc.status.DEADLINE_EXCEEDED) },
      { retry: { attempts: 2, backoff: { base: '1ms', max: '2ms' } } },
    );
    try {
      assert.equal((await failure(unary(client, 'GetItem', { id: 'g' }))).code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(callsOf(instances, 'GetItem'), 2, 'the idempotent method was tried twice');
      assert.equal((await failure(unary(client, 'Reserve', { id: 'r' }))).code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(callsOf(instances, 'Reserve'), 1, 'the method not marked idempotent was sent once');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it("honours grpc-retry-pushback-ms: a retry waits as long as the server asked; a negative one means no retry", async () => {
    const seenAt: number[] = [];
    const pushback = (value: string) => {
      const metadata = new grpc.Metadata();
      metadata.set('grpc-retry-pushback-ms', value);
      return metadata;
    };
    const { mesh, client, instances } = await meshOver(
      {
        GetItem: (call: Any, callback: Any) => {
          seenAt.push(performance.now());
          if (seenAt.length === 1) callback({ code: grpc.status.UNAVAILABLE, details: 'overloaded', metadata: pushback('150') });
          else callback(null, { id: call.request.id, server: 'ok' });
        },
        Reserve: (_call: Any, callback: Any) => callback({ code: grpc.status.UNAVAILABLE, details: 'go away', metadata: pushback('-1') }),
      },
      { retry: { attempts: 3, backoff: { base: '1ms', max: '2ms' } } },
    );
    try {
      assert.equal((await unary<Item>(client, 'GetItem', { id: 'p' })).server, 'ok');
      assert.equal(seenAt.length, 2);
      assert.ok(seenAt[1]! - seenAt[0]! >= 145, `the retry came ${Math.round(seenAt[1]! - seenAt[0]!)} ms after the pushback of 150 ms`);
      assert.equal((await failure(unary(client, 'Reserve', { id: 'r' }))).code, grpc.status.UNAVAILABLE);
      assert.equal(callsOf(instances, 'Reserve'), 1, 'a negative pushback: not retried');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('opens the breaker: calls fail fast with UNAVAILABLE and MESH_CIRCUIT_OPEN as cause, the servers see no more calls', async () => {
    const { mesh, client, instances } = await meshOver({ GetItem: fail(grpc.status.INTERNAL) }, { retry: false, breaker: { errorRate: 0.5, minRequests: 5, window: '10s', openFor: '5s' } });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await failure(unary(client, 'GetItem', { id: `${i}` }))).code, grpc.status.INTERNAL);
      const before = callsOf(instances, 'GetItem');
      for (let i = 0; i < 5; i++) {
        const error = await failure(unary(client, 'GetItem', { id: `open-${i}` }));
        assert.equal(error.code, grpc.status.UNAVAILABLE);
        assert.ok(isMeshError(error.cause) && error.cause.code === 'MESH_CIRCUIT_OPEN', String(error.cause));
      }
      assert.equal(callsOf(instances, 'GetItem'), before, 'no call reached a server while open');
      // A streaming call meets the same breaker.
      const stream = client.ListItems({ id: 's' });
      const streamError = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      assert.equal(streamError.code, grpc.status.UNAVAILABLE);
      assert.equal(callsOf(instances, 'ListItems'), 0);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('reports meshlet decisions as ServiceErrors with the right status and the MeshError as cause', async () => {
    const stall = (_call: unknown, callback: (error: unknown, item?: unknown) => void) => setTimeout(() => callback(null, { id: 'late' }), 400);
    const { mesh, client } = await meshOver({ GetItem: stall, Reserve: fail(grpc.status.NOT_FOUND, 'no such item') }, { timeout: '100ms', rateLimit: { rps: 1, burst: 2 } }, 1);
    const empty = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [] } } } });
    const nowhere = empty.grpc('inventory', InventoryClient);
    try {
      const timedOut = await failure(unary(client, 'GetItem', { id: 't' }));
      assert.equal(timedOut.code, grpc.status.DEADLINE_EXCEEDED);
      assert.ok(isMeshError(timedOut.cause) && timedOut.cause.code === 'MESH_TIMEOUT', String(timedOut.cause));
      // The server's own answer passes through as it is: not meshlet's decision, no cause.
      const notFound = await failure(unary(client, 'Reserve', { id: 'n' }));
      assert.equal(notFound.code, grpc.status.NOT_FOUND);
      assert.equal(notFound.details, 'no such item');
      assert.equal(notFound.cause, undefined);
      const limited = await failure(unary(client, 'Reserve', { id: 'l' }));
      assert.equal(limited.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.ok(isMeshError(limited.cause) && limited.cause.code === 'MESH_RATE_LIMITED');
      const none = await failure(unary(nowhere, 'GetItem', { id: 'x' }));
      assert.equal(none.code, grpc.status.UNAVAILABLE);
      assert.ok(isMeshError(none.cause) && none.cause.code === 'MESH_NO_ENDPOINTS');
      assert.match(none.details, /found no endpoints/);
    } finally {
      client.close();
      nowhere.close();
      await mesh.close();
      await empty.close();
    }
  });

  it('regression: a call cancelled while it waited out a server pushback ends CANCELLED at once, sends no further attempt and does not hold mesh.close() for the pushback', async () => {
    const seenAt: number[] = [];
    const pushback = new grpc.Metadata();
    pushback.set('grpc-retry-pushback-ms', '1500');
    const { mesh, client, instances } = await meshOver(
      {
        GetItem: (_call: Any, callback: Any) => {
          seenAt.push(performance.now());
          callback({ code: grpc.status.UNAVAILABLE, details: 'overloaded', metadata: pushback });
        },
      },
      { retry: { attempts: 3, backoff: { base: '1ms', max: '2ms' }, maxRetryAfter: '5s' } },
      1,
    );
    let closed = false;
    try {
      const cancelInPause = async (id: string): Promise<{ error: Any; afterCancelMs: number }> => {
        const seen = seenAt.length;
        let cancelledAt = 0;
        const atCancel = () => {
          cancelledAt = performance.now();
        };
        const error = await cancelOnceRefused(client, id, () => seenAt.length !== seen, { pollMs: 5, delayMs: 50, atCancel });
        return { error, afterCancelMs: performance.now() - cancelledAt };
      };
      // The caller hears CANCELLED at once; the retry the pushback held back is never sent.
      const first = await cancelInPause('a');
      assert.equal(first.error?.code, grpc.status.CANCELLED);
      assert.ok(first.afterCancelMs < 200, `the caller heard its cancel ${Math.round(first.afterCancelMs)} ms after it`);
      await new Promise((resolve) => setTimeout(resolve, 1700));
      assert.equal(callsOf(instances, 'GetItem'), 1, 'no attempt after the cancel');
      // The cancelled call leaves the mesh at once too: close() does not wait out the pushback's 1.5 s.
      const second = await cancelInPause('b');
      assert.equal(second.error?.code, grpc.status.CANCELLED);
      const closing = performance.now();
      client.close();
      await mesh.close();
      closed = true;
      const closeMs = performance.now() - closing;
      assert.ok(closeMs < 700, `mesh.close() took ${Math.round(closeMs)} ms after the cancel`);
      assert.equal(callsOf(instances, 'GetItem'), 2);
    } finally {
      if (!closed) {
        client.close();
        await mesh.close();
      }
    }
  });

  it('regression: a call made inside an inbound request (its attempts follow that request\'s signal) and cancelled by its caller during a pushback pause does not hold mesh.close() for the pushback', async () => {
    let refused = 0;
    const pushback = new grpc.Metadata();
    pushback.set('grpc-retry-pushback-ms', '1500');
    const { mesh, client, instances } = await meshOver(
      {
        GetItem: (_call: Any, callback: Any) => {
          refused++;
          callback({ code: grpc.status.UNAVAILABLE, details: 'overloaded', metadata: pushback });
        },
      },
      { retry: { attempts: 3, backoff: { base: '1ms', max: '2ms' }, maxRetryAfter: '5s' } },
      1,
    );
    // An inbound request that never goes away: only the caller's own cancel ends the call.
    const inbound = new AbortController();
    let closed = false;
    try {
      const error = await runWithInbound({ signal: inbound.signal }, () => cancelOnceRefused(client, 'in', () => refused !== 0, { pollMs: 5, delayMs: 50 }));
      assert.equal(error?.code, grpc.status.CANCELLED);
      const closing = performance.now();
      client.close();
      await mesh.close();
      closed = true;
      const closeMs = performance.now() - closing;
      assert.ok(closeMs < 700, `mesh.close() took ${Math.round(closeMs)} ms after the cancel: the pause followed only the inbound request's signal`);
      assert.equal(callsOf(instances, 'GetItem'), 1, 'no attempt after the cancel');
    } finally {
      if (!closed) {
        client.close();
        await mesh.close();
      }
    }
  });

  it('a call cancelled during a retry backoff ends CANCELLED at once and starts no further attempt', async () => {
    const { mesh, client, instances, refused } = await alwaysUnavailable({ base: '400ms', max: '400ms' });
    try {
      let cancelledAt = 0;
      let seenAtCancel = 0;
      const atCancel = () => {
        cancelledAt = performance.now();
        seenAtCancel = callsOf(instances, 'GetItem');
      };
      const error = await cancelOnceRefused(client, 'b', () => refused() !== 0, { atCancel });
      assert.equal(error?.code, grpc.status.CANCELLED);
      assert.ok(performance.now() - cancelledAt < 200, `the caller heard its cancel ${Math.round(performance.now() - cancelledAt)} ms after it`);
      // Past the longest backoff (400 ms, full jitter): whatever the jitter drew, no attempt started after the cancel.
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(callsOf(instances, 'GetItem'), seenAtCancel, 'no attempt after the cancel');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('regression: calls cancelled during their retry backoffs do not hold mesh.close() for the rest of the backoffs', async () => {
    const { mesh, client, instances, refused } = await alwaysUnavailable({ base: '3s', max: '3s' });
    let closed = false;
    try {
      // Three calls, each cancelled in its backoff (full jitter over 0..3 s): before the fix the
      // retry layer's sleep followed only call.signal, which a default gRPC call has not, so
      // close() waited for the longest of three draws (all under 600 ms: 1 in 125).
      for (const id of ['a', 'b', 'c']) {
        const seen = refused();
        const error = await cancelOnceRefused(client, id, () => refused() !== seen);
        assert.equal(error?.code, grpc.status.CANCELLED);
      }
      const closing = performance.now();
      client.close();
      await mesh.close();
      closed = true;
      const closeMs = performance.now() - closing;
      assert.ok(closeMs < 600, `mesh.close() took ${Math.round(closeMs)} ms after three calls cancelled in their backoffs`);
      assert.equal(callsOf(instances, 'GetItem'), 3, 'no attempt after a cancel');
    } finally {
      if (!closed) {
        client.close();
        await mesh.close();
      }
    }
  });

  it('regression: a call the caller cancelled while queued for a concurrency slot kept its place, so the next call was refused RESOURCE_EXHAUSTED', async () => {
    const held: (() => void)[] = [];
    const { mesh, client } = await meshOver({ GetItem: (call: Any, callback: Any) => held.push(() => callback(null, { id: call.request.id, server: 'q' })) }, { concurrency: { max: 1, queue: 1, queueTimeout: '5s' } }, 1);
    try {
      const first = settle(unary<Item>(client, 'GetItem', { id: 'a' }));
      for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      const cancelled = await new Promise<Any>((resolve) => {
        const call = client.GetItem({ id: 'b' }, (error: unknown) => resolve(error));
        setTimeout(() => call.cancel(), 30);
      });
      assert.equal(cancelled?.code, grpc.status.CANCELLED);
      const next = settle(unary<Item>(client, 'GetItem', { id: 'c' }));
      await new Promise((resolve) => setTimeout(resolve, 30));
      held.shift()!();
      for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      held.shift()?.();
      const [a, c] = await Promise.all([first, next]);
      assert.ok(a.ok);
      assert.ok(c.ok, `the queue's one place was free again: ${!c.ok && c.error.details}`);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('fails a call on a closed client with UNAVAILABLE, leaving no attempt counted in flight (regression: INTERNAL, and the endpoint kept it in flight)', async () => {
    const { mesh, client } = await meshOver({}, {}, 1);
    try {
      await unary<Item>(client, 'GetItem', { id: 'before' });
      client.close();
      const error = await failure(unary(client, 'GetItem', { id: 'after' }));
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.match(error.details, /channel could not start the call/);
      const endpoints = (mesh.state() as Any).services.inventory.endpoints as { inFlight: number }[];
      assert.equal(endpoints[0]!.inFlight, 0);
    } finally {
      await mesh.close();
    }
  });

  it('fails calls on a closed mesh with UNAVAILABLE and MESH_CLOSED; mesh.grpc of an unknown service fails its calls with MESH_UNKNOWN_SERVICE', async () => {
    const { mesh, client } = await meshOver({}, {}, 1);
    // Hostile arguments are refused at once, saying what to pass.
    for (const notAClient of [class {}, {}, undefined]) {
      assert.throws(() => mesh.grpc('inventory', notAClient as never), (error: unknown) => isMeshError(error) && error.code === 'MESH_BAD_REQUEST' && /grpc-js client constructor/.test(error.message));
    }
    assert.throws(() => mesh.grpc('bad name!', InventoryClient), (error: unknown) => isMeshError(error) && error.code === 'MESH_BAD_REQUEST');
    const unknown = mesh.grpc('nope', InventoryClient);
    const error = await failure(unary(unknown, 'GetItem', { id: 'x' }));
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    assert.ok(isMeshError(error.cause) && error.cause.code === 'MESH_UNKNOWN_SERVICE');
    await mesh.close();
    const closed = await failure(unary(client, 'GetItem', { id: 'x' }));
    assert.ok(isMeshError(closed.cause) && closed.cause.code === 'MESH_CLOSED');
    client.close();
    unknown.close();
  });
});
