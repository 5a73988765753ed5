/**
 * Validation in slices (the apply path) must be validation: the same config out, and the same
 * issues at the same paths, as validateMeshConfig, whichever part of the document is wrong.
 * It validates each service's endpoint list on a turn of the event loop of its own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';
import { validateMeshConfigInSlices } from '../../src/config/validate-in-slices.ts';

function list(service: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.${service}.${i >> 8}.${i & 255}:80`);
}

function document(edit: (services: Record<string, Record<string, unknown>>) => void = () => {}): Record<string, unknown> {
  const services: Record<string, Record<string, unknown>> = {};
  for (let s = 0; s < 6; s++) services[`svc-${s}`] = { endpoints: list(s, 300), timeout: '2s' };
  services.dns = { discovery: { type: 'dns', name: 'api.internal', port: 80 } };
  services.weighted = { endpoints: [{ address: '10.9.0.1:80', weight: 3, tags: ['v2'], meta: { zone: 'a' } }, '10.9.0.2:80'] };
  edit(services);
  return { defaults: { retry: { attempts: 3 } }, services };
}

async function outcome(validate: () => unknown): Promise<unknown> {
  try {
    return { config: await validate() };
  } catch (error) {
    assert.ok(isMeshError(error), String(error));
    return { code: error.code, issues: error.issues };
  }
}

async function assertSameAsAtOnce(doc: unknown): Promise<unknown> {
  const atOnce = await outcome(() => validateMeshConfig(doc));
  const sliced = await outcome(() => validateMeshConfigInSlices(doc));
  assert.deepEqual(JSON.parse(JSON.stringify(sliced)), JSON.parse(JSON.stringify(atOnce)));
  return atOnce;
}

test('a valid document gives the config validateMeshConfig gives, one turn per endpoint list', async () => {
  const doc = document();
  const result = (await assertSameAsAtOnce(doc)) as { config: { services: Record<string, { endpoints: unknown[] }> } };
  assert.equal(result.config.services['svc-0']!.endpoints.length, 300);
  let turns = 0;
  await validateMeshConfigInSlices(doc, async () => {
    turns++;
  });
  assert.equal(turns, 7); // six lists of 300 and the weighted one; the DNS service has none
});

test('bad endpoints in several lists: the same issues at the same paths', async () => {
  const result = (await assertSameAsAtOnce(
    document((services) => {
      (services['svc-2']!.endpoints as unknown[])[7] = 'not an address';
      (services['svc-4']!.endpoints as unknown[])[9] = '10.4.0.1:80'; // a duplicate of index 1
      (services.weighted!.endpoints as unknown[])[0] = { address: '10.9.0.1:80', wieght: 2 };
    }),
  )) as { issues: { path: string }[] };
  assert.deepEqual(
    result.issues.map((issue) => issue.path),
    ['services.svc-2.endpoints.7', 'services.svc-4.endpoints.9', 'services.weighted.endpoints.0.wieght'],
  );
});

test('a document wrong outside its lists reports those issues and the lists\' together, as at once', async () => {
  const result = (await assertSameAsAtOnce(
    document((services) => {
      services['svc-1']!.timout = '1s';
      services['svc-3']!.discovery = { type: 'dns', name: 'x.internal', port: 80 };
      (services['svc-5']!.endpoints as unknown[])[0] = 42;
    }),
  )) as { issues: { path: string }[] };
  assert.deepEqual(
    result.issues.map((issue) => issue.path),
    ['services.svc-1.timout', 'services.svc-3.discovery', 'services.svc-5.endpoints.0'],
  );
});

test('documents that are not plain data, have no services, or are over the endpoint limits: as at once', async () => {
  await assertSameAsAtOnce(null);
  await assertSameAsAtOnce({ defaults: { timeout: '1s' } });
  await assertSameAsAtOnce({ services: [] });
  await assertSameAsAtOnce({ services: { a: { endpoints: list(0, 1001) } } });
  const over: Record<string, unknown> = {};
  for (let s = 0; s < 11; s++) over[`svc-${s}`] = { endpoints: list(s, 1000) };
  await assertSameAsAtOnce({ services: over });
});
