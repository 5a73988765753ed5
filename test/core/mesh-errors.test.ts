import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptSuperseded, callerAborted, isMeshError, type MeshError, TransportError } from '../../src/core/errors.ts';
import * as build from '../../src/core/mesh-errors.ts';
import { configTooLarge, configUnparsable, configUnreadable } from '../../src/config/config-error.ts';

/** `call to 'payments' <what happened>; <what to do>`: lower-case start, a semicolon before the advice, no trailing period. */
const HOUSE_STYLE = /^(call to '[^']+'|the call) [^;]+; [^;]*[^.]$/;

const cause = new Error('boom');
const everyBuilder: ReadonlyArray<[string, MeshError]> = [
  ['deadlineExceeded', build.deadlineExceeded('payments', 150.4, 1)],
  ['perTryTimedOutInBody', build.perTryTimedOutInBody('payments', 2, 100)],
  ['deadlineWhileQueued', build.deadlineWhileQueued('payments')],
  ['deadlineDuringInjectedDelay', build.deadlineDuringInjectedDelay('payments')],
  ['noEndpoints', build.noEndpoints('payments')],
  ['allEndpointsEjected', build.allEndpointsEjected('payments', 3)],
  ['noEndpointChosen', build.noEndpointChosen('payments')],
  ['endpointsClosed', build.endpointsClosed('payments')],
  ['clientClosed', build.clientClosed('payments')],
  ['clientClosedWhileQueued', build.clientClosedWhileQueued('payments')],
  ['meshClosed', build.meshClosed('payments')],
  ['meshClosedWhileQueued', build.meshClosedWhileQueued()],
  ['meshClosedCallCut', build.meshClosedCallCut(5000)],
  ['circuitOpen', build.circuitOpen('payments', 250)],
  ['circuitHalfOpen', build.circuitHalfOpen('payments')],
  ['rateLimited', build.rateLimited('payments', 5, 200)],
  ['rateLimited without a hint', build.rateLimited('payments', 5, 0)],
  ['concurrencyLimited', build.concurrencyLimited('payments', 8, ' (adaptive limit)')],
  ['toCallerError of a timeout', build.toCallerError(new TransportError('timeout', true, 'the upstream did not answer in time'), 'payments', 2)],
  ['toCallerError of a bug', build.toCallerError(cause, 'payments', 1)],
  ['bodyBrokeOff', build.bodyBrokeOff('payments', 'http://10.0.0.1:80', 'the connection failed (ECONNRESET)', cause)],
  ['unknownService', build.unknownService('paymnets', ['payments'])],
  ['refusedByClient', build.refusedByClient('payments', 'HTTP', 'UND_ERR_INVALID_ARG', cause)],
  ['callerAborted', callerAborted('payments', 'in flight', undefined)],
  ['attemptSuperseded', attemptSuperseded('payments')],
];

describe('mesh error builders', () => {
  for (const [name, error] of everyBuilder) {
    it(`${name} writes its message in the one house style`, () => {
      assert.ok(isMeshError(error));
      assert.match(error.message, HOUSE_STYLE);
    });
  }

  it('deadlineExceeded rounds the deadline and records the attempts made', () => {
    const error = build.deadlineExceeded('payments', 150.4, 2);
    assert.equal(error.code, 'MESH_TIMEOUT');
    assert.match(error.message, /exceeded its 150 ms deadline/);
    assert.equal(error.attempts, 2);
    assert.equal(error.service, 'payments');
  });
});

describe('toCallerError, the one translation to what the caller sees', () => {
  it('passes a MeshError from below unchanged', () => {
    const open = build.circuitOpen('payments', 10);
    assert.equal(build.toCallerError(open, 'payments', 3), open);
  });

  it('turns a transport timeout into MESH_TIMEOUT with the attempts and the transport error as cause', () => {
    const timeout = new TransportError('timeout', true, "attempt 2 to 'payments' exceeded its 100 ms per-try timeout");
    const error = build.toCallerError(timeout, 'payments', 2);
    assert.equal(error.code, 'MESH_TIMEOUT');
    assert.equal(error.attempts, 2);
    assert.equal(error.cause, timeout);
    assert.match(error.message, /timed out after 2 attempts \(attempt 2 to 'payments' exceeded its 100 ms per-try timeout\)/);
  });

  it('turns any other transport failure into MESH_UPSTREAM_FAILED that keeps the transport advice', () => {
    const refused = new TransportError('connect-error', false, 'Could not connect (ECONNREFUSED); check the endpoint is up and reachable');
    const error = build.toCallerError(refused, 'payments', 1);
    assert.equal(error.code, 'MESH_UPSTREAM_FAILED');
    assert.equal(error.message, "call to 'payments' failed after 1 attempt: Could not connect (ECONNREFUSED); check the endpoint is up and reachable");
    assert.equal(error.cause, refused);
  });

  it('turns anything else (a bug) into MESH_UPSTREAM_FAILED with it as the cause', () => {
    const error = build.toCallerError(cause, 'payments', 1);
    assert.equal(error.code, 'MESH_UPSTREAM_FAILED');
    assert.equal(error.cause, cause);
    assert.equal(error.attempts, 1);
  });
});

/** A source's problem: `<source> <what failed>; <what to do>`, the source first, no trailing period. */
const SOURCE_STYLE = /^file:\/etc\/mesh\.json [^;]+; [^;]*[^.]$/;

describe('config source and control store errors, in the same style', () => {
  const source = 'file:/etc/mesh.json';
  const bySource: ReadonlyArray<[string, MeshError, string]> = [
    ['configUnreadable', configUnreadable(source, 'cannot be read (EACCES)', cause), 'MESH_CONFIG_INVALID'],
    ['configTooLarge', configTooLarge(source, 1_000_000), 'MESH_CONFIG_INVALID'],
    ['configUnparsable', configUnparsable(source, cause), 'MESH_CONFIG_INVALID'],
    ['storeAlreadyWatched', build.storeAlreadyWatched(source), 'MESH_BAD_REQUEST'],
  ];
  for (const [name, error, code] of bySource) {
    it(`${name} says what failed and what to do, with its code unchanged`, () => {
      assert.ok(isMeshError(error));
      assert.equal(error.code, code);
      assert.match(error.message, SOURCE_STYLE);
    });
  }

  it('keeps the cause of an unreadable or unparsable source', () => {
    assert.equal(configUnreadable(source, 'does not exist', cause).cause, cause);
    assert.equal(configUnparsable(source, cause).cause, cause);
  });
});
