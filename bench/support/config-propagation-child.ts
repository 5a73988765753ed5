/**
 * One process of the config-propagation benchmark (bench/config-propagation.ts): a mesh whose
 * control is Consul KV and whose two services discover one Consul service, so the process
 * holds one KV watch and one health watch. Every 'config' event that changed `api` is
 * reported to the parent with the wall-clock time it was seen (performance.timeOrigin +
 * performance.now(): sub-millisecond, and comparable between processes of one machine).
 *
 * argv: control URL. Messages to the parent: `ready` (with the blocking queries open),
 * `applied` (with `at`), and `queries` on request.
 */
import { createMesh } from '../../src/index.ts';
import { openBlockingQueries } from '../../src/consul/blocking-watch.ts';

export type ChildMessage =
  | { readonly kind: 'ready'; readonly openBlockingQueries: number }
  | { readonly kind: 'applied'; readonly at: number; readonly version: number }
  | { readonly kind: 'queries'; readonly openBlockingQueries: number };

const send = (message: ChildMessage): void => {
  process.send!(message);
};

const [control = ''] = process.argv.slice(2);
const mesh = await createMesh({ service: `bench-${process.pid}`, control });
mesh.on('config', (event) => {
  if (event.changedServices.includes('api')) send({ kind: 'applied', at: performance.timeOrigin + performance.now(), version: event.version });
});
process.on('message', (message: { kind: string }) => {
  if (message.kind === 'queries') send({ kind: 'queries', openBlockingQueries: openBlockingQueries() });
});
process.on('disconnect', () => {
  void mesh.close().finally(() => process.exit(0));
});
send({ kind: 'ready', openBlockingQueries: openBlockingQueries() });
