/**
 * MeshErrorFilter (adapters/nestjs) answers an uncaught MeshError on HTTP only: a global filter
 * also meets a hybrid app's microservice ('rpc') contexts, where there is no HTTP response to
 * write; there it must touch nothing and return nothing, so Nest's own handling applies.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ArgumentsHost } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { MeshErrorFilter } from '../../adapters/nestjs/providers.ts';
import { MeshError } from '../../src/core/errors.ts';

function recordingFilter(): { filter: MeshErrorFilter; calls: string[] } {
  const calls: string[] = [];
  const httpAdapter = {
    setHeader: (_response: unknown, name: string) => calls.push(`setHeader ${name}`),
    reply: (_response: unknown, _body: unknown, status: number) => calls.push(`reply ${status}`),
  };
  return { filter: new MeshErrorFilter({ httpAdapter } as unknown as HttpAdapterHost), calls };
}

function hostOf(type: string): ArgumentsHost {
  const response = {};
  return {
    getType: () => type,
    getArgs: () => [{ pattern: 'orders.get' }, {}],
    getArgByIndex: () => undefined,
    switchToHttp: () => {
      if (type !== 'http') throw new Error(`switchToHttp() in a ${type} context`);
      return { getRequest: () => ({}), getResponse: () => response, getNext: () => undefined };
    },
    switchToRpc: () => ({ getData: () => ({}), getContext: () => ({}) }),
    switchToWs: () => ({ getClient: () => ({}), getData: () => ({}), getPattern: () => 'orders' }),
  } as unknown as ArgumentsHost;
}

const timeout = (): MeshError => new MeshError('MESH_TIMEOUT', 'the call to payments ran out of time');

it('regression: in a non-HTTP context (rpc, ws) the filter returns nothing and writes nothing (it wrote an HTTP answer through the transport arguments)', () => {
  for (const type of ['rpc', 'ws']) {
    const { filter, calls } = recordingFilter();
    assert.equal(filter.catch(timeout(), hostOf(type)), undefined);
    assert.deepEqual(calls, [], type);
  }
});

it('on HTTP it answers the MeshError in HTTP terms', () => {
  const { filter, calls } = recordingFilter();
  filter.catch(timeout(), hostOf('http'));
  assert.deepEqual(calls, ['setHeader content-type', 'reply 504']);
});
