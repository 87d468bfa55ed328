// Validation throughput on one core: how many canonical events per second `validateEvent`
// (already-parsed objects, the projections' hot path) and `parseEvent` (JSON text, what
// `callboard validate` and the DLQ replay do) get through. A mix of every event type.
//
//   npx tsx bench/validate.ts [--events 200000] [--rounds 5]
import { parseArgs } from 'node:util';
import { EXAMPLES } from '@callboard/schemas/examples';
import { EVENT_TYPES, makeEvent, type CanonicalEvent } from '@callboard/schemas';
import { parseEvent, validateEvent } from '@callboard/schemas';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
const n = Number(values.events);
const rounds = Number(values.rounds);

// Distinct events (different ids, times, numbers) so nothing is served from a cache.
function corpus(size: number): CanonicalEvent[] {
  const out: CanonicalEvent[] = [];
  for (let i = 0; i < size; i++) {
    const base = EXAMPLES[EVENT_TYPES[i % EVENT_TYPES.length]!] as CanonicalEvent & { call_id?: string; agent_id?: string };
    const at = new Date(Date.UTC(2025, 9, 1) + i * 37).toISOString();
    const subject = 'call_id' in base ? { call_id: `${base.call_id}${i}` } : 'agent_id' in base ? { agent_id: `${base.agent_id}${i % 50}` } : {};
    out.push(
      makeEvent(
        base.type,
        { tenant_id: base.tenant_id, pbx_id: base.pbx_id, source: base.source, occurred_at: at, received_at: at, raw_ref: base.raw_ref, vendor_key: `k${i}` },
        subject as never,
        base.payload as never,
      ) as CanonicalEvent,
    );
  }
  return out;
}

function measure(label: string, fn: () => number): void {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const ok = fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (ok !== n) throw new Error(`${label}: only ${ok} of ${n} events validated`);
    rates.push(n / s);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)]!;
  console.log(
    `${label.padEnd(34)} median ${Math.round(median).toLocaleString('en-US')} events/s  (best ${Math.round(rates.at(-1)!).toLocaleString('en-US')}, ${rounds} rounds of ${n.toLocaleString('en-US')})`,
  );
}

const events = corpus(n);
const lines = events.map((e) => JSON.stringify(e));
const avgBytes = Math.round(lines.reduce((s, l) => s + l.length, 0) / n);
console.log(`validate bench: ${n} events of ${EVENT_TYPES.length} types, ${avgBytes} bytes each on average, node ${process.version}`);

// Warm up so the JIT has compiled the validators before timing.
for (let i = 0; i < Math.min(n, 50_000); i++) validateEvent(events[i]);

measure('validateEvent (parsed objects)', () => {
  let ok = 0;
  for (const e of events) if (validateEvent(e).ok) ok++;
  return ok;
});
measure('parseEvent (JSON.parse + validate)', () => {
  let ok = 0;
  for (const l of lines) if (parseEvent(l).ok) ok++;
  return ok;
});
