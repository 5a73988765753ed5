/**
 * The benchmark backend, run in its own process so its CPU is not the client's: node:http,
 * keep-alive, a 2-byte response. Prints its port on stdout, exits when stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((_req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.setHeader('content-length', '2');
  res.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
