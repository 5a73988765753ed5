import { throughput } from '../bench/support/driver.ts';
import { startTinyServer } from '../bench/support/processes.ts';
import { createMesh } from '../src/index.ts';
const b = await startTinyServer();
const mesh = await createMesh({ service: 'bench', config: { services: { api: { endpoints: [`127.0.0.1:${b.port}`] } } } });
const c = mesh.client('api');
const call = async () => { const r = await c.request({ method: 'GET', path: '/' }); await r.body.dump(); };
for (let i = 0; i < 3; i++) console.log('mesh', Math.round(await throughput(call, 32, 1500)));
await mesh.close(); await b.stop();
