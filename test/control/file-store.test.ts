import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../src/core/clock.ts';
import type { MeshError } from '../../src/core/errors.ts';
import type { ControlListener } from '../../src/control/control-store.ts';
import { FileControlStore } from '../../src/control/file-store.ts';

const root = mkdtempSync(join(tmpdir(), 'meshlet-file-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

type Event = { kind: 'snapshot'; document: unknown } | { kind: 'rejected'; error: MeshError } | { kind: 'unavailable'; error: Error };

function recorder(): ControlListener & { events: Event[]; next(count: number): Promise<Event> } {
  const events: Event[] = [];
  return {
    events,
    snapshot: (document) => events.push({ kind: 'snapshot', document }),
    rejected: (error) => events.push({ kind: 'rejected', error }),
    unavailable: (error) => events.push({ kind: 'unavailable', error }),
    async next(count) {
      for (let waited = 0; events.length < count; waited += 10) {
        if (waited > 3000) assert.fail(`timed out waiting for event ${count}; got ${JSON.stringify(events.map((e) => e.kind))}`);
        await sleep(10);
      }
      return events[count - 1]!;
    },
  };
}

function fresh(name: string, text: string | undefined, pollMs?: number) {
  const dir = mkdtempSync(join(root, 'case-'));
  const path = join(dir, name);
  if (text !== undefined) writeFileSync(path, text);
  return { path, store: new FileControlStore(path, name.endsWith('.json') ? 'json' : 'yaml', { debounceMs: 20, pollMs: pollMs ?? 5000 }) };
}

test('delivers the file at watch(), then a good edit, then nothing for an identical rewrite', async () => {
  const { path, store } = fresh('mesh.json', '{"services":{}}');
  const listener = recorder();
  await store.watch(listener);
  assert.deepEqual(listener.events, [{ kind: 'snapshot', document: { services: {} } }]);
  assert.equal(store.source, `file:${path}`);
  writeFileSync(path, '{"defaults":{"timeout":"1s"}}');
  assert.deepEqual(await listener.next(2), { kind: 'snapshot', document: { defaults: { timeout: '1s' } } });
  writeFileSync(path, '{"defaults":{"timeout":"1s"}}');
  await sleep(150);
  assert.equal(listener.events.length, 2, 'the same content is not delivered twice');
  await store.close();
});

test('a broken edit goes to rejected with no snapshot; the fix is delivered', async () => {
  const { path, store } = fresh('mesh.yaml', 'services: {}\n');
  const listener = recorder();
  await store.watch(listener);
  writeFileSync(path, 'services: [\n');
  const rejected = await listener.next(2);
  assert.equal(rejected.kind, 'rejected');
  assert.equal(rejected.kind === 'rejected' && rejected.error.code, 'MESH_CONFIG_INVALID');
  assert.match(rejected.kind === 'rejected' ? rejected.error.message : '', /line \d+, column \d+/);
  writeFileSync(path, 'defaults: {timeout: 2s}\n');
  assert.deepEqual(await listener.next(3), { kind: 'snapshot', document: { defaults: { timeout: '2s' } } });
  assert.deepEqual(listener.events.map((e) => e.kind), ['snapshot', 'rejected', 'snapshot']);
  await store.close();
});

test('deleting the file reports unavailable once; recreating it delivers again', async () => {
  const { path, store } = fresh('mesh.json', '{}');
  const listener = recorder();
  await store.watch(listener);
  unlinkSync(path);
  const gone = await listener.next(2);
  assert.equal(gone.kind, 'unavailable');
  assert.match(gone.kind === 'unavailable' ? gone.error.message : '', /does not exist/);
  await sleep(100);
  assert.equal(listener.events.length, 2, 'one report per outage');
  writeFileSync(path, '{"services":{}}');
  assert.deepEqual(await listener.next(3), { kind: 'snapshot', document: { services: {} } });
  await store.close();
});

test('a missing file at start is reported unavailable, and watch() still resolves', async () => {
  const { store } = fresh('absent.yaml', undefined);
  const listener = recorder();
  await store.watch(listener);
  assert.equal(listener.events[0]?.kind, 'unavailable');
  await store.close();
});

test('survives editors that save by rename-replace', async () => {
  const { path, store } = fresh('mesh.json', '{}');
  const listener = recorder();
  await store.watch(listener);
  for (const timeout of ['1s', '2s']) {
    writeFileSync(`${path}.tmp`, JSON.stringify({ defaults: { timeout } }));
    renameSync(`${path}.tmp`, path);
    const event = await listener.next(listener.events.length + 1);
    assert.deepEqual(event, { kind: 'snapshot', document: { defaults: { timeout } } });
  }
  await store.close();
});

test('with fs.watch off, the poll (driven by the Clock) catches an edit', async () => {
  const dir = mkdtempSync(join(root, 'poll-'));
  const path = join(dir, 'mesh.json');
  writeFileSync(path, '{}');
  const clock = new ManualClock();
  const store = new FileControlStore(path, 'json', { clock, pollMs: 1000, watchFs: false });
  const listener = recorder();
  await store.watch(listener);
  writeFileSync(path, '{"services":{}}');
  await sleep(100);
  assert.equal(listener.events.length, 1, 'nothing happens before the poll is due');
  clock.advance(1000);
  assert.deepEqual(await listener.next(2), { kind: 'snapshot', document: { services: {} } });
  await store.close();
});

test('close() stops watching: later edits are not delivered', async () => {
  const { path, store } = fresh('mesh.json', '{}', 30);
  const listener = recorder();
  await store.watch(listener);
  await store.close();
  writeFileSync(path, '{"services":{}}');
  await sleep(150);
  assert.equal(listener.events.length, 1);
});
