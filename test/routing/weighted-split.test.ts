import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gcFunction, leastAllocation } from '../../bench/support/allocation.ts';
import { flattenSplits, scaleWeight, WeightedSplit } from '../../src/routing/weighted-split.ts';
import { xorshiftDraw } from '../../src/routing/xorshift-random.ts';
import { configIssuesOf } from '../support/mesh-error.ts';

/** A split at `x` from target → percent, in the order written. */
const percentSplit = (percents: Record<string, number>): WeightedSplit<string> =>
  WeightedSplit.fromPercent(
    Object.entries(percents).map(([target, weight]) => ({ target, weight })),
    'x',
  );

test("weights scale as Consul's scaleWeight does (float32, 0.01 resolution): the APICETEST 99.1/0.9 splitter is 9910/90", () => {
  assert.equal(scaleWeight(99.1), 9910);
  assert.equal(scaleWeight(0.9), 90);
  assert.equal(scaleWeight(33.333), 3333);
  assert.equal(scaleWeight(0.005), 1, '0.005% rounds half up to 0.01%');
  const split = percentSplit({ v1: 99.1, other: 0.9 });
  assert.deepEqual(
    split.targets.map((t) => t.scaled),
    [9910, 90],
  );
});

test("weights that do not sum to exactly 100 are rejected at their path, in Consul's words", () => {
  const issues = configIssuesOf(() =>
    WeightedSplit.fromPercent(
      [
        { target: 'a', weight: 33.33 },
        { target: 'b', weight: 33.33 },
        { target: 'c', weight: 33.33 },
      ],
      'services.api.routes[0].to',
    ),
  );
  assert.deepEqual(issues, [{ path: 'services.api.routes[0].to', message: 'the sum of all split weights must be 100, not 99.989998' }]);
  const bad = configIssuesOf(() => WeightedSplit.fromPercent([{ target: 'a', weight: -5 }, { target: 'b', weight: 105 }], 'p'));
  assert.deepEqual(
    bad.map((i) => i.path),
    ['p[0].weight', 'p[1].weight'],
  );
  assert.deepEqual(configIssuesOf(() => WeightedSplit.fromPercent([], 'p')), [{ path: 'p', message: 'no splits configured' }]);
});

test('a 90/10 split lands within ±1% over 100,000 picks; a 0-weight target is never picked', () => {
  const split = percentSplit({ v1: 90, v2: 10, drained: 0 });
  const random = xorshiftDraw(10_000, 7);
  const counts = { v1: 0, v2: 0, drained: 0 };
  for (let i = 0; i < 100_000; i++) counts[split.pick(random) as keyof typeof counts]++;
  assert.ok(Math.abs(counts.v1 / 100_000 - 0.9) < 0.01, JSON.stringify(counts));
  assert.ok(Math.abs(counts.v2 / 100_000 - 0.1) < 0.01, JSON.stringify(counts));
  assert.equal(counts.drained, 0);
});

test('picks follow the draw exactly: cumulative bounds at 0.01% resolution', () => {
  const split = percentSplit({ a: 0.01, b: 99.99 });
  assert.equal(split.pick(() => 0), 'a');
  assert.equal(split.pick(() => 1), 'b');
  assert.equal(split.pick(() => 9999), 'b');
});

test("flattened splits of splits: products rounded down to 0.01%, the remainder to the FIRST split (Consul's rule)", () => {
  // 50% to a service that splits 1/3 each (33.33/33.33/33.34), 50% stays.
  const flat = flattenSplits(
    [
      { target: 'inner', scaled: 5000 },
      { target: 'stay', scaled: 5000 },
    ],
    (t) =>
      t === 'inner'
        ? [
            { target: 'x', scaled: 3333 },
            { target: 'y', scaled: 3333 },
            { target: 'z', scaled: 3334 },
          ]
        : undefined,
  );
  assert.deepEqual(flat, [
    { target: 'x', scaled: 1667 }, // 1666.5 rounded down to 1666, plus the remainder of 1
    { target: 'y', scaled: 1666 },
    { target: 'z', scaled: 1667 },
    { target: 'stay', scaled: 5000 },
  ]);
  assert.doesNotThrow(() => new WeightedSplit(flat));
});

test('a pick allocates nothing, even from a call site that has seen several draw sources', async (t) => {
  const split = percentSplit({ v1: 80, v2: 15, v3: 5 });
  const random = xorshiftDraw(10_000, 1);
  const run = async (): Promise<number> => {
    let length = 0;
    for (let i = 0; i < 100_000; i++) length += split.pick(random).length;
    return length;
  };
  await run();
  const { bytes, result } = await leastAllocation(run, gcFunction());
  t.diagnostic(`${bytes} bytes allocated over 100,000 picks (the least of 3 runs)`);
  assert.equal(result, 200_000);
  assert.ok(bytes < 100_000, `100,000 picks allocated ${bytes} bytes`);
});
