import { Pool } from 'undici';
import { throughput } from '../bench/support/driver.ts';
import { startTinyServer } from '../bench/support/processes.ts';
import { httpTransport } from '../src/transport/http/transport.ts';
import { contextFor, meshRequest } from '../test/transport/fixtures.ts';
import { parseAddress } from '../src/discovery/address.ts';
const b = await startTinyServer();
const pool = new Pool(`http://127.0.0.1:${b.port}`, { connections: 64 });
const ep = { address: parseAddress(`127.0.0.1:${b.port}`), origin: '', dispatcher: pool };
const req = meshRequest('GET', '/');
const bare = async () => { const r = await pool.request({ method: 'GET', path: '/' }); await r.body.dump(); };
const tr = async () => { const r = await httpTransport.call(req, contextFor(ep)); await r.body.dump(); };
for (let i = 0; i < 3; i++) { console.log('bare', Math.round(await throughput(bare, 32, 1500)), 'transport', Math.round(await throughput(tr, 32, 1500))); }
await pool.close(); await b.stop();
