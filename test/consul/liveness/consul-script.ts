/**
 * A one-shot script using the Consul client the way a CLI or a mesh that is never closed
 * does: it awaits a write, then starts a watch and awaits its first report, prints what it
 * saw, and never calls stop() or close(). It must exit on its own (watch-liveness.test.ts).
 */
import { BlockingWatch } from '../../../src/consul/blocking-watch.ts';
import { ConsulClient } from '../../../src/consul/client.ts';

const url = process.argv[2] ?? '';
const client = new ConsulClient({ url, requestTimeoutMs: 5000 });
const written = await client.kvPut('p/k', 'v');
const seen: string[] = [];
const watch = new BlockingWatch({
  what: 'kv p/',
  query: (index, wait, signal) => client.kvList('p/', { index, wait, signal }),
  wait: '60s',
  onChange: (_value, index) => seen.push(`change ${index}`),
  onError: (error) => seen.push(`error ${error.status}`),
});
await watch.start();
console.log(JSON.stringify({ written, seen }));
