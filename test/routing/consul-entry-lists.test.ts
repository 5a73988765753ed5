/**
 * The process-wide routing entry lists (src/routing/consul-entry-lists.ts) against the
 * emulator: the first view comes once all three kinds answered (Consul's `null` for a kind with
 * no entry is an empty list), a write wakes the list and delivers the new view, a rewrite that
 * changes nothing but the indexes delivers nothing, a late subscriber hears the current view at
 * once, subscribers share one watch, and the last to leave ends it (no query left parked).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConsulEntries, sharedEntryWatches, watchConsulEntries } from '../../src/routing/consul-entry-lists.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { eventually, sleep } from '../support/waits.ts';

const resolver = (name: string, subset: string) => ({ Kind: 'service-resolver', Name: name, DefaultSubset: subset, Subsets: { [subset]: { Filter: 'Service.Meta.version == 1' } } });

test('views of the three kinds: first complete, then each that differs, shared, ended by the last subscriber', async (t) => {
  const consul = await startConsulEmulator();
  t.after(() => consul.close());
  const put = async (entry: unknown): Promise<void> => {
    assert.equal((await call(consul.url, 'PUT', '/v1/config', { body: JSON.stringify(entry) })).status, 200);
  };
  const views: string[][] = [];
  const keysOf = (entries: ConsulEntries): string[] => [...entries.keys()].sort();
  const first = watchConsulEntries({ url: consul.url }, undefined, { change: (entries) => views.push(keysOf(entries)), error: (error) => assert.fail(error.message) });
  await first.ready;
  assert.deepEqual(views, [[]], 'one view, empty, once every kind answered');
  assert.equal(sharedEntryWatches(), 1);

  await put(resolver('web', 'one'));
  await eventually(() => views.length === 2, 'the write to arrive');
  assert.deepEqual(views[1], ['service-resolver/web']);
  await put(resolver('web', 'one'));
  await put({ Kind: 'service-defaults', Name: 'web', Protocol: 'http' });
  await sleep(150);
  assert.equal(views.length, 2, 'an identical rewrite, or another kind, is not news');

  let late: string[] | undefined;
  const second = watchConsulEntries({ url: consul.url }, undefined, { change: (entries) => (late = keysOf(entries)), error: () => {} });
  assert.deepEqual(late, ['service-resolver/web'], 'a late subscriber hears the view at once');
  assert.equal(sharedEntryWatches(), 1, 'one watch for both');
  assert.equal(consul.openBlockingQueries, 3, 'three queries parked at the agent');

  await put({ Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 100 }] });
  await eventually(() => views.length === 3 && late?.length === 2, 'both to hear the splitter');
  await first.close();
  assert.equal(sharedEntryWatches(), 1, 'the second still watches');
  await second.close();
  assert.equal(sharedEntryWatches(), 0);
  await eventually(() => consul.openBlockingQueries === 0, 'no query left parked');
});
