import { promises as dns } from 'node:dns';
import { startSrvServer } from '../test/discovery/srv-server.ts';
const s = await startSrvServer();
s.records.set('_http._tcp.api.test', [{ priority: 1, weight: 5, port: 8080, target: 'a.api.test' }, { priority: 2, weight: 1, port: 9090, target: 'b.api.test' }]);
const r = new dns.Resolver({ timeout: 500, tries: 1 }); r.setServers([s.server]);
console.log(await r.resolveSrv('_http._tcp.api.test'));
try { await r.resolveSrv('nope.test'); } catch (e: any) { console.log('err', e.code); }
await s.close();
