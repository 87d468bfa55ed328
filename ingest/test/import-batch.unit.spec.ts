// ImportBatch keeps one batch in flight while the next is gathered: never two at once, batches in
// the order they were gathered, and nothing reported done before Kafka acknowledged it.
import { describe, expect, it } from 'vitest';
import { createLogger } from '@callboard/platform';
import { makeEvent, type CanonicalEvent } from '@callboard/schemas';
import { IngestPipeline, ok } from '../src/pipeline.ts';
import { emptySummary, ImportBatch } from '../src/import/asterisk.ts';

const event = (n: number): CanonicalEvent =>
  makeEvent(
    'call.started',
    {
      tenant_id: 'acme',
      pbx_id: 'pbx1',
      source: 'ami',
      occurred_at: '2026-01-01T00:00:00.000Z',
      received_at: '2026-01-01T00:00:00.000Z',
      raw_ref: null,
      vendor_key: `queue_log:${n}`,
    },
    { call_id: `call-${n}` },
    { direction: 'inbound', caller_number: '0712', called_number: '100' },
  );

/** A sink whose writes are acknowledged only when the test says so, one by one. */
function heldSink() {
  const acks: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const batches: string[][] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  return {
    acks,
    batches,
    mostInFlight: () => mostInFlight,
    raw: async () => [],
    dlq: async () => {},
    canonical: (es: CanonicalEvent[]) => {
      batches.push(es.map((e) => ('call_id' in e ? e.call_id : '')));
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      return new Promise<void>((resolve, reject) => acks.push({ resolve, reject })).finally(() => inFlight--);
    },
  };
}

function setUp() {
  const sink = heldSink();
  const pipeline = new IngestPipeline({ source: 'ami', tenant_id: 'acme', pbx_id: 'pbx1', sink, log: createLogger('test', 'silent') });
  const summary = emptySummary();
  const batch = new ImportBatch(pipeline, summary, 2);
  const gather = (...ns: number[]) => {
    for (const n of ns) pipeline.settle(batch.settled, ok([event(n)]), { original: `line ${n}`, ref: null });
  };
  return { sink, pipeline, summary, batch, gather };
}

/** Whether the promise has settled once pending callbacks ran (a macrotask later). */
const isDone = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('ImportBatch', () => {
  it('hands a batch over without waiting for its acks, sends the next only once the first is acknowledged, and ends when the last is', async () => {
    const { sink, summary, batch, gather } = setUp();
    gather(1, 2);
    expect(batch.full).toBe(true);
    await batch.flush();
    expect(sink.batches).toEqual([['call-1', 'call-2']]);
    expect(sink.acks).toHaveLength(1);

    gather(3, 4);
    const second = batch.flush();
    expect(await isDone(second)).toBe(false);
    expect(sink.batches).toHaveLength(1);
    sink.acks[0]!.resolve();
    await second;
    expect(sink.batches).toEqual([
      ['call-1', 'call-2'],
      ['call-3', 'call-4'],
    ]);

    gather(5);
    const end = batch.end();
    expect(await isDone(end)).toBe(false);
    sink.acks[1]!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(sink.batches.at(-1)).toEqual(['call-5']);
    expect(await isDone(end)).toBe(false);
    sink.acks[2]!.resolve();
    await end;
    expect(sink.mostInFlight()).toBe(1);
    expect(summary.events).toBe(5);
  });

  it('throws a write that failed for good at the next flush, not as an unhandled rejection', async () => {
    const { sink, pipeline, batch, gather } = setUp();
    gather(1, 2);
    await batch.flush();
    pipeline.close();
    sink.acks[0]!.reject(new Error('broker gone'));
    gather(3);
    await expect(batch.end()).rejects.toThrow('broker gone');
    expect(sink.batches).toHaveLength(1);
  });
});
