/**
 * The one registry behind every process-wide shared Consul watch (KV prefix, service health):
 * one watch per question, late subscribers replayed, the last to leave stops it, one
 * subscriber's throwing handler not starving the others, the token only as a digest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentIdentity, SharedWatch, SharedWatches } from '../../src/consul/shared-watch.ts';

type Listener = (value: string) => void;

class Recorded extends SharedWatch<Listener> {
  last: string | undefined;
  stops = 0;
  publish(value: string): void {
    this.last = value;
    this.broadcast((listener) => listener(value));
  }
  protected replay(listener: Listener): void {
    const last = this.last;
    if (last !== undefined) this.tell(listener, (l) => l(last));
  }
  protected async stop(): Promise<void> {
    this.stops++;
  }
}

describe('SharedWatches (regression: the KV and health watches each had their own copy of this registry)', () => {
  it('one watch per question, a late subscriber hears what it knows, the last to leave stops it', async () => {
    const registry = new SharedWatches<Listener, Recorded>();
    let created = 0;
    const create = (): Recorded => {
      created++;
      return new Recorded();
    };
    const heardA: string[] = [];
    const heardB: string[] = [];
    const a = registry.join(['q'], create, (v) => heardA.push(v));
    a.watch.publish('one');
    const b = registry.join(['q'], create, (v) => heardB.push(v));
    assert.equal(created, 1);
    assert.equal(b.watch, a.watch);
    assert.deepEqual(heardB, ['one'], 'the late subscriber is replayed the last value');
    const other = registry.join(['other'], create, () => {});
    assert.equal(registry.size, 2);
    await a.close();
    await a.close();
    assert.equal(a.watch.stops, 0, 'still one subscriber');
    a.watch.publish('two');
    assert.deepEqual(heardA, ['one'], 'a closed subscriber hears nothing more');
    assert.deepEqual(heardB, ['one', 'two']);
    await b.close();
    assert.equal(a.watch.stops, 1);
    assert.equal(registry.size, 1);
    const again = registry.join(['q'], create, () => {});
    assert.notEqual(again.watch, a.watch, 'after the last left, a new subscriber starts a fresh watch');
    await again.close();
    await other.close();
    assert.equal(registry.size, 0);
  });

  it("a subscriber that throws does not starve the others (its error surfaces off the watch's stack)", async () => {
    const registry = new SharedWatches<Listener, Recorded>();
    const heard: string[] = [];
    // The bug is rethrown from a microtask; caught here so the test process does not die of it.
    const surfaced: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (task) => {
      try {
        task();
      } catch (error) {
        surfaced.push(error);
      }
    };
    const bad = registry.join(['q'], () => new Recorded(), () => {
      throw new Error('subscriber bug');
    });
    const good = registry.join(['q'], () => new Recorded(), (v) => heard.push(v));
    try {
      bad.watch.publish('x');
    } finally {
      globalThis.queueMicrotask = original;
    }
    assert.deepEqual(heard, ['x']);
    assert.deepEqual(surfaced.map((e) => (e as Error).message), ['subscriber bug']);
    await bad.close();
    await good.close();
  });

  it('agentIdentity keeps the token and CA only as digests; the datacenter given overrides the agent one', () => {
    const identity = agentIdentity({ url: 'http://127.0.0.1:8500', token: 'secret-token', ca: 'PEM', datacenter: 'dc1' }, 'dc2');
    assert.ok(!JSON.stringify(identity).includes('secret-token'));
    assert.equal(identity[0], 'http://127.0.0.1:8500');
    assert.equal(identity[3], 'dc2');
    assert.notDeepEqual(identity, agentIdentity({ url: 'http://127.0.0.1:8500', token: 'other', ca: 'PEM' }, 'dc2'), 'another token is another question');
    assert.equal(agentIdentity({ url: 'http://x' })[3], null);
  });
});
