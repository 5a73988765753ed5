/**
 * The registries telemetry keeps of live meshes (gauge-meshes.ts, telemetry-stack.ts) hold
 * live meshes only: a closed mesh leaves them at close(), a dropped one when it is collected.
 * Before, they were Sets of WeakRefs pruned only when read (a metric collection, a
 * refreshTelemetry()), so a process making meshes without a meter grew them forever.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { gcFunction } from '../../bench/support/allocation.ts';
import { createMesh } from '../../src/index.ts';
import { gaugeMeshes } from '../../src/telemetry/gauge-meshes.ts';
import { LiveSet } from '../../src/telemetry/live-set.ts';
import { liveEmitters } from '../../src/telemetry/telemetry-stack.ts';

it('regression: closed meshes leave the gauge and refresh registries (they grew by one entry per mesh made)', async () => {
  const gauges = gaugeMeshes.size;
  const emitters = liveEmitters.size;
  for (let i = 0; i < 20; i++) {
    const mesh = await createMesh({ service: `live-${i}`, config: { services: { api: { endpoints: ['127.0.0.1:1'] } } } });
    await mesh.close();
  }
  assert.equal(gaugeMeshes.size, gauges);
  assert.equal(liveEmitters.size, emitters);
});

it('a LiveSet lets go of an entry the garbage collector took, without being read', async () => {
  const gc = gcFunction();
  const set = new LiveSet<object>();
  const kept = {};
  set.add(kept);
  set.add(kept);
  for (let i = 0; i < 100; i++) set.add({});
  assert.ok(set.size >= 1);
  for (let round = 0; round < 20 && set.size > 1; round++) {
    gc();
    await tick();
  }
  assert.equal(set.size, 1, 'only the entry still referenced is held');
  assert.deepEqual([...set], [kept]);
  set.delete(kept);
  assert.equal(set.size, 0);
});
