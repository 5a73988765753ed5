import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import { durationOrThrow, parseDuration } from '../../src/config/duration.ts';
import { MAX_DURATION_MS } from '../../src/config/limits.ts';

test('accepts every documented form and converts it to milliseconds', () => {
  const cases: [unknown, number][] = [
    ['250ms', 250],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['0ms', 0],
    [0, 0],
    [750, 750],
    [12.5, 12.5],
    ['24h', MAX_DURATION_MS],
  ];
  for (const [input, ms] of cases) assert.deepEqual(parseDuration(input), { ok: true, ms }, String(input));
});

test('rejects negative, non-finite, absurd and garbage durations with a reason', () => {
  const cases: [unknown, string][] = [
    [-1, '≥ 0'],
    ['-1s', 'negative durations are not allowed'],
    [Number.NaN, 'finite'],
    [Number.POSITIVE_INFINITY, 'finite'],
    ['25h', 'at most 24h'],
    [MAX_DURATION_MS + 1, 'at most 24h'],
    ['10 parsecs', '"10 parsecs"'],
    ['10', 'expected a duration'],
    ['1.5', 'expected a duration'],
    ['s', 'expected a duration'],
    ['1d', 'expected a duration'],
    [' 1s', 'expected a duration'],
    [true, 'got true'],
    [null, 'got null'],
    [{}, 'got an object'],
    [`${'9'.repeat(100_000)}ms`, 'a string of 100002 characters'],
  ];
  for (const [input, fragment] of cases) {
    const result = parseDuration(input);
    assert.equal(result.ok, false, String(input).slice(0, 20));
    if (!result.ok) {
      assert.ok(result.message.includes(fragment), `${result.message} should include ${fragment}`);
      assert.ok(result.message.length < 200, 'never echoes a long value');
    }
  }
});

test('durationOrThrow names the option in a MESH_BAD_REQUEST error', () => {
  assert.equal(durationOrThrow('800ms', 'timeout'), 800);
  assert.throws(
    () => durationOrThrow('800 msec', 'timeout'),
    (error) => isMeshError(error) && error.code === 'MESH_BAD_REQUEST' && error.message.startsWith('timeout: expected a duration'),
  );
});
