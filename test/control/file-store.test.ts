import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
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

/** Records every event, and when it arrived (performance.now()) in `times`. */
function recorder(): ControlListener & { events: Event[]; times: number[]; next(count: number): Promise<Event> } {
  const events: Event[] = [];
  const times: number[] = [];
  const record = (event: Event): void => {
    events.push(event);
    times.push(performance.now());
  };
  return {
    events,
    times,
    snapshot: (document) => record({ kind: 'snapshot', document }),
    rejected: (error) => record({ kind: 'rejected', error }),
    unavailable: (error) => record({ kind: 'unavailable', error }),
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

test('regression: a file edited 100 times a second is read while the edits go on (the debounce has a maximum wait), and the last edit is applied', async (t) => {
  const dir = mkdtempSync(join(root, 'stream-'));
  const path = join(dir, 'mesh.json');
  const write = (timeout: number): void => {
    writeFileSync(`${path}.tmp`, JSON.stringify({ defaults: { timeout } }));
    renameSync(`${path}.tmp`, path);
  };
  write(1);
  // The default debounce (50 ms) and a poll too slow to help within this test.
  const store = new FileControlStore(path, 'json', { pollMs: 60_000 });
  const listener = recorder();
  await store.watch(listener);
  try {
    const last = 101;
    for (let timeout = 2; timeout <= last; timeout++) {
      write(timeout);
      await sleep(10);
    }
    const stoppedAt = performance.now();
    const streamMs = stoppedAt - listener.times[0]!;
    const duringStream = listener.times.slice(1).filter((at) => at < stoppedAt).length;
    t.diagnostic(`${duringStream} reads applied while 100 edits were written over ${Math.round(streamMs)} ms`);
    // The default maximum wait is 200 ms (4 debounce periods): a read at least every 400 ms
    // leaves the timers half their schedule as slack on a loaded machine. Before the fix: 0.
    const expected = Math.max(1, Math.floor(streamMs / 400));
    assert.ok(duringStream >= expected, `${duringStream} reads during the ${Math.round(streamMs)} ms stream of edits; expected at least ${expected}`);
    for (let waited = 0; JSON.stringify(listener.events.at(-1)) !== JSON.stringify({ kind: 'snapshot', document: { defaults: { timeout: last } } }); waited += 10) {
      if (waited > 2000) assert.fail(`the last edit was not applied; last event ${JSON.stringify(listener.events.at(-1))}`);
      await sleep(10);
    }
  } finally {
    await store.close();
  }
});

/**
 * The kubelet's layout, dir/mesh.yaml -> ..data/mesh.yaml and dir/..data -> ..<timestamp>/,
 * updated twice the kubelet's way; `fromElsewhere` reads it through one more symlink, from
 * another directory (an app linking to its mounted config).
 */
async function assertConfigMapSwapsApply(t: { diagnostic(message: string): void }, fromElsewhere: boolean): Promise<void> {
  const dir = mkdtempSync(join(root, 'configmap-'));
  const writeVersion = (name: string, timeout: string): void => {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'mesh.yaml'), `defaults: {timeout: ${timeout}}\n`);
  };
  writeVersion('..2026_a', '1s');
  symlinkSync('..2026_a', join(dir, '..data'));
  symlinkSync('..data/mesh.yaml', join(dir, 'mesh.yaml'));
  let path = join(dir, 'mesh.yaml');
  if (fromElsewhere) {
    const app = mkdtempSync(join(root, 'app-'));
    symlinkSync(path, join(app, 'mesh.yaml'));
    path = join(app, 'mesh.yaml');
  }
  const store = new FileControlStore(path, 'yaml', { pollMs: 60_000 });
  const listener = recorder();
  await store.watch(listener);
  try {
    assert.deepEqual(listener.events, [{ kind: 'snapshot', document: { defaults: { timeout: '1s' } } }]);
    const swaps = [
      { next: '..2026_b', previous: '..2026_a', timeout: '2s' },
      { next: '..2026_c', previous: '..2026_b', timeout: '3s' },
    ];
    for (const [index, { next, previous, timeout }] of swaps.entries()) {
      writeVersion(next, timeout);
      // The atomic swap: a new symlink renamed over ..data; then the old directory goes.
      symlinkSync(next, join(dir, '..data_tmp'));
      const swappedAt = performance.now();
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, previous), { recursive: true });
      const event = await listener.next(index + 2);
      const appliedMs = listener.times[index + 1]! - swappedAt;
      t.diagnostic(`swap to ${next} applied ${appliedMs.toFixed(1)} ms after the rename`);
      assert.deepEqual(event, { kind: 'snapshot', document: { defaults: { timeout } } });
      assert.ok(appliedMs < 500, `applied ${appliedMs.toFixed(1)} ms after the swap (the aim is 200 ms; the poll would take 60 s)`);
    }
  } finally {
    await store.close();
  }
}

test('regression: a Kubernetes ConfigMap update (the ..data symlink swapped to a new directory) is applied by the watch within 200 ms, not by the poll', async (t) => {
  await assertConfigMapSwapsApply(t, false);
});

test('a ConfigMap reached through a symlink from another directory is watched where its links live', async (t) => {
  await assertConfigMapSwapsApply(t, true);
});
