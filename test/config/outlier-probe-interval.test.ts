/** `outlier.probeInterval`: a duration or false, inherited and overridden like every policy key. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';

const outlierOf = (config: unknown) =>
  resolveConfig({ bootstrap: validateMeshConfig(config), control: undefined }).services.get('payments')!.outlier;

test('outlier.probeInterval takes a duration or false, and defaults to 2 s', () => {
  const endpoints = ['127.0.0.1:9001'];
  const built = outlierOf({ services: { payments: { endpoints } } });
  assert.equal(built !== false && built.probeInterval, 2_000);
  const custom = outlierOf({ defaults: { outlier: { probeInterval: '500ms' } }, services: { payments: { endpoints } } });
  assert.equal(custom !== false && custom.probeInterval, 500);
  const off = outlierOf({ services: { payments: { endpoints, outlier: { probeInterval: false } } } });
  assert.equal(off !== false && off.probeInterval, false);
  assert.throws(
    () => validateMeshConfig({ services: { payments: { endpoints, outlier: { probeInterval: 0 } } } }),
    (error) => isMeshError(error) && error.issues?.some((i) => i.path === 'services.payments.outlier.probeInterval') === true,
  );
});
