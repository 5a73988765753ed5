/**
 * meshlet in an Express 5 service, runnable: `node examples/express/main.ts`. A stand-in
 * "payments" service starts on loopback; the checkout service calls it through meshlet, asks
 * itself once with a 2 s deadline, prints the answer and shuts down in the adapter's order.
 * The README's Express snippet is the part between the markers (test/docs/readme.test.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { meshErrors, meshlet } from '../../adapters/express/index.ts';
import { createMesh } from '../../src/index.ts';

const standIn = createServer((_req, res) => res.end(JSON.stringify({ charged: true })));
await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
const paymentsAddress = `127.0.0.1:${(standIn.address() as AddressInfo).port}`;
const port = Number(process.env.PORT ?? 0);

// --- express ---
const mesh = await createMesh({ service: 'checkout', config: { services: { payments: { endpoints: [paymentsAddress], timeout: '2s' } } } });
const app = express();
const inbound = meshlet(mesh, { defaultTimeout: '5s', maxTimeout: '30s', admin: { path: '/_meshlet' } });
app.use(inbound);
app.post('/checkout', async (req, res) => {
  // Inherits what is left of the caller's deadline, its cancellation and its trace.
  const charge = await req.mesh.client('payments').request({ method: 'POST', path: '/charge', body: '{}', idempotent: true });
  res.status(charge.statusCode).json(await charge.body.json());
});
app.use(meshErrors()); // an uncaught MeshError: 504 for a deadline, 503 or 502 for a dependency
const server = app.listen(port, '127.0.0.1');
process.once('SIGTERM', () => inbound.shutdown(server)); // deregister, stop admitting, drain, close
// --- end express ---

await new Promise((resolve) => server.once('listening', resolve));
const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/checkout`, { method: 'POST', headers: { 'x-meshlet-timeout-ms': '2000' } });
console.log(answer.status, await answer.json());
await inbound.shutdown(server);
standIn.close();
