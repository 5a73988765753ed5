/**
 * injectSpan (otel-tracing.ts) writes an attempt's headers from a view of its parent context
 * instead of `trace.setSpan(parent, span)`: the headers must be exactly what the real context
 * gives, with the parent's baggage and the span's tracestate, through the composite and B3
 * propagators too (B3 reads the suppression and debug keys from the context it is given).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { propagation, ROOT_CONTEXT, type TextMapPropagator, trace, TraceFlags } from '@opentelemetry/api';
import { CompositePropagator, TraceState, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3Propagator } from '@opentelemetry/propagator-b3';
import { injectSpan, propagationHeaders } from '../../src/telemetry/otel-tracing.ts';

const parentSpan = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED });
const span = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, traceState: new TraceState('vendor=abc') });
const parent = propagation.setBaggage(trace.setSpan(ROOT_CONTEXT, parentSpan), propagation.createBaggage({ tenant: { value: 'acme' } }));

function both(propagator: TextMapPropagator): { viewed: Record<string, string>; real: Record<string, string> } {
  propagation.disable();
  propagation.setGlobalPropagator(propagator);
  const viewed: Record<string, string> = {};
  injectSpan(parent, span, viewed);
  return { viewed, real: propagationHeaders(trace.setSpan(parent, span)) };
}

describe('injectSpan', () => {
  it('writes what the real child context writes: the span (not its parent), its tracestate, the parent baggage', () => {
    const { viewed, real } = both(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    assert.deepEqual(viewed, real);
    assert.equal(viewed.traceparent, '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01');
    assert.equal(viewed.tracestate, 'vendor=abc');
    assert.equal(viewed.baggage, 'tenant=acme');
  });

  it('gives a propagator that derives a context from it a real one holding the span', () => {
    const deriving: TextMapPropagator = {
      inject(context, carrier: Record<string, string>) {
        const derived = context.setValue(Symbol.for('test key'), 1);
        carrier.span = trace.getSpanContext(derived)?.spanId ?? 'none';
        carrier.dropped = trace.getSpanContext(context.deleteValue(Symbol.for('test key')))?.spanId ?? 'none';
      },
      extract: (context) => context,
      fields: () => ['span', 'dropped'],
    };
    const { viewed, real } = both(deriving);
    assert.deepEqual(viewed, { span: '00f067aa0ba902b7', dropped: '00f067aa0ba902b7' });
    assert.deepEqual(viewed, real);
  });

  it('matches through B3, single and multi header', () => {
    for (const propagator of [new B3Propagator(), new B3Propagator({ injectEncoding: 1 })]) {
      const { viewed, real } = both(propagator);
      assert.deepEqual(viewed, real);
      assert.ok(Object.keys(viewed).length > 0);
    }
  });
});
