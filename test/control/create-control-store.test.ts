import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import type { ControlStore } from '../../src/control/control-store.ts';
import { createControlStore } from '../../src/control/create-control-store.ts';
import { ConsulControlStore } from '../../src/control/consul-store.ts';
import { FileControlStore } from '../../src/control/file-store.ts';
import { StaticControlStore } from '../../src/control/static-store.ts';

const rejects = (control: unknown, fragment: string) =>
  assert.throws(
    () => createControlStore(control as string),
    (error) => isMeshError(error) && error.code === 'MESH_CONFIG_INVALID' && error.message.includes(fragment),
    String(control),
  );

test('no control option means the static store, which delivers nothing', async () => {
  const store = createControlStore(undefined);
  assert.ok(store instanceof StaticControlStore);
  assert.equal(store.source, 'static');
  const seen: unknown[] = [];
  await store.watch({ snapshot: (d) => seen.push(d), rejected: (e) => seen.push(e), unavailable: (e) => seen.push(e) });
  assert.deepEqual(seen, []);
  await store.close();
});

test('a static store given a document delivers it once', async () => {
  const seen: unknown[] = [];
  await new StaticControlStore({ services: {} }).watch({ snapshot: (d) => seen.push(d), rejected: assert.fail, unavailable: assert.fail });
  assert.deepEqual(seen, [{ services: {} }]);
});

test('file: paths resolve against baseDir and pick the format from the extension', async () => {
  const store = createControlStore('file:./conf/mesh.yml', { baseDir: '/srv/app' });
  assert.ok(store instanceof FileControlStore);
  assert.equal(store.source, 'file:/srv/app/conf/mesh.yml');
  assert.equal(createControlStore('file:///etc/mesh.json').source, 'file:/etc/mesh.json');
  assert.equal(createControlStore('file:/etc/mesh.yaml').source, 'file:/etc/mesh.yaml');
});

test('consul:// URLs make a Consul KV store named by its agent and prefix (nothing is opened before watch())', () => {
  const store = createControlStore('consul://127.0.0.1:8500/meshlet/');
  assert.ok(store instanceof ConsulControlStore);
  assert.equal(store.source, 'consul://127.0.0.1:8500/meshlet');
  assert.equal(createControlStore('consul+https://consul.internal/fleet/a').source, 'consul://consul.internal:8501/fleet/a');
  // The mesh's agent (its `consul` option) is the one read, and the one named.
  const chosen = createControlStore('consul://127.0.0.1:8500/meshlet', { consulAgent: () => ({ url: 'http://10.0.0.1:8600' }) });
  assert.equal(chosen.source, 'consul://10.0.0.1:8600/meshlet');
});

test('a ControlStore object is used as is', () => {
  const custom: ControlStore = { source: 'custom', watch: async () => {}, close: async () => {} };
  assert.equal(createControlStore(custom), custom);
});

test('unsupported forms fail with what is accepted', () => {
  rejects('consul://127.0.0.1:8500/', 'needs a KV prefix');
  rejects('consul://127.0.0.1:8500/a//b', 'has an empty, "." or ".." segment');
  rejects('consul://127.0.0.1:8500/meshlet?token=abc', 'query or fragment');
  rejects('file:./mesh.toml', 'must end in .json, .yaml or .yml');
  rejects('file:', 'needs a path');
  rejects('http://example.com/mesh.json', '"file:./mesh.json"');
  rejects(42, 'got 42');
  rejects({ watch: 1 }, 'without watch() and close()');
});
