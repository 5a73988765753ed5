/**
 * A one-shot script using the Consul client the way a CLI or a mesh that is never closed
 * does: it awaits a write, then starts a watch and awaits its first report, prints what it
 * saw, and never calls stop() or close(). It must exit on its own (watch-liveness.test.ts).
 * In `background-read` mode it only starts a read marked background, which the agent never
 * answers, and holds the process 500 ms so the read is surely sent.
 */
import { BlockingWatch } from '../../../src/consul/blocking-watch.ts';
import { ConsulClient } from '../../../src/consul/client.ts';

const url = process.argv[2] ?? '';
const client = new ConsulClient({ url, requestTimeoutMs: 5000 });
if (process.argv[3] === 'background-read') {
  // A read nobody awaits, marked background: the agent never answers it, and the script ends anyway.
  client.kvGet('p/k', { background: true }).catch(() => {});
  setTimeout(() => console.log(JSON.stringify({ written: false, seen: [] })), 500);
} else {
  await watchAndReport();
}

async function watchAndReport(): Promise<void> {
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
}
