/**
 * The admin page's event log, fed by a real MeshEventEmitter: the events it keeps and how it
 * says them, one entry with a count for the same event again (a discovery error on every
 * retry must not push the ejections out of the ring), the bound, and the rejections kept with
 * their issues; close() removes every listener.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EventLog } from '../../src/admin/event-log.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';

it('logs ejections, breaker changes and rejections; repeats become a count; bounded; close() unsubscribes', () => {
  const events = new MeshEventEmitter();
  const log = new EventLog((name, listener) => events.on(name, listener));
  events.emit('eject', { service: 'pay', endpoint: '10.0.0.1:80', until: 0, reason: '5 consecutive failures' });
  events.emit('breaker', { service: 'pay', state: 'open' });
  events.emit('config-rejected', { source: 'file:/x', issues: [{ path: 'services.pay.timeout', message: 'expected a duration' }], error: new Error('x') });
  for (let i = 0; i < 500; i++) events.emit('control-error', { source: 'discovery:pay', error: new Error('agent unreachable') });
  assert.deepEqual(
    log.events.map((e) => [e.kind, e.service, e.detail, e.count]),
    [
      ['eject', 'pay', '10.0.0.1:80 ejected: 5 consecutive failures', 1],
      ['breaker', 'pay', 'breaker open', 1],
      ['config-rejected', null, 'from file:/x: services.pay.timeout: expected a duration', 1],
      ['control-error', null, 'discovery:pay: agent unreachable', 500],
    ],
  );
  assert.deepEqual(log.rejections.map((r) => r.issues), [[{ path: 'services.pay.timeout', message: 'expected a duration' }]]);
  for (let i = 0; i < 300; i++) events.emit('breaker', { service: `s${i}`, state: 'half-open' });
  assert.equal(log.events.length, 100);
  log.close();
  for (const name of ['eject', 'readmit', 'breaker', 'failover', 'config', 'config-rejected', 'control-error'] as const) assert.equal(events.hasListeners(name), false, name);
});
