// The simulated Yeastar S-Series reports: the shape of the real ones (../shared/fixtures: the same
// keys, members and value types), and through the real parser and translator, with the model's
// times as receive times (what the adapter stamps when played in real time), no DLQ and the
// ledger's queue outcomes, missed rings, transfers, calls and agents.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translateYeastarText } from '@callboard/ingest/yeastar/offline';
import { simulate } from '../src/model.ts';
import { callCentreScenario, dayWindow } from '../src/scenarios.ts';
import { renderYeastarS } from '../src/yeastar-s-render.ts';
import { eventOutcomes, ledgerOutcomes } from './ledger-outcomes.ts';

const dir = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'yeastar');
const fixture = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;

/** The keys of an object and of its members, each with the type of its value: the shape, not the values. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return [...new Set(v.map((x) => JSON.stringify(shape(x))))].sort().map((s) => JSON.parse(s) as unknown);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

describe('simulated Yeastar S-Series reports', () => {
  const zone = 'Asia/Singapore';
  const { ledger, actions } = simulate(callCentreScenario({ tenant: 'initech', pbx: 'ys', timezone: zone, seed: 7, first_extension: 3001, ...dayWindow('2026-03-29', zone) }));
  const reports = renderYeastarS(ledger, actions, { queueNumbers: { sales: '6700', support: '6701' }, did: '6700', trunk: 'siptrunk' });
  const of = (event: string) => reports.filter((r) => r.report.event === event).map((r) => r.report);
  const text = reports.map((r) => JSON.stringify({ body: JSON.stringify(r.report), received_at: new Date(r.t).toISOString() })).join('\n');
  const r = translateYeastarText(text, { source: 'yeastar-s', tenant_id: 'initech', pbx_id: 'ys', timezone: zone, queues: ['6700', '6701'] });

  it.skipIf(!existsSync(dir))('have the shape of the real reports (needs ../shared/fixtures)', () => {
    // An answered queue call: the caller (inbound, ANSWERED) and the agent (ext, ANSWER), callpath the queue.
    const answered = of('CallStatus').find((x) => (x.members as Record<string, { memberstatus?: string }>[]).some((m) => m.ext?.memberstatus === 'ANSWER'))!;
    expect(shape(answered)).toEqual(shape(fixture('s-series-v2-callstatus-answered-inbound-queue.json')));
    const bye = of('CallStatus').find((x) => (x.members as Record<string, { memberstatus?: string }>[]).every((m) => Object.values(m)[0]!.memberstatus === 'BYE') && (x.members as unknown[]).length === 2)!;
    expect(shape(bye)).toEqual(shape(fixture('s-series-v2-callstatus-bye.json')));
    // A transfer's members without statuses (the fixture's parties are extensions; ours are an inbound caller and the target).
    const transfer = of('Tranfer').find((x) => (x.members as Record<string, unknown>[]).some((m) => 'ext' in m))!;
    expect(shape({ ...transfer, members: (transfer.members as Record<string, unknown>[]).filter((m) => 'ext' in m) })).toEqual(shape(fixture('s-series-v2-calltransfer.json')));
    expect(shape(of('ExtensionStatus')[0])).toEqual(shape(fixture('s-series-v2-extensionstatus-ringing.json')));
    expect(shape(of('NewCdr')[0])).toEqual(shape(fixture('s-series-v2-newcdr-internal.json')));
    expect(of('ExtensionStatus').map((x) => x.status)).toEqual(expect.arrayContaining(['Registered', 'Ringing', 'Busy', 'Unregistered']));
    // PBX-local start time, as the fixtures write it.
    expect(of('NewCdr')[0]!.timestart).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('are parsed and translated without a dead letter', () => {
    expect(reports.length).toBeGreaterThan(1000);
    expect(r.dlq).toEqual([]);
    expect(r.dropped).toEqual([]);
  });

  it("yield the ledger's queue outcomes, missed rings, transfers, calls and waits", () => {
    expect(eventOutcomes(r.events)).toEqual(ledgerOutcomes(ledger));
  });

  it('shows every agent of the model: available once signed on, ringing, on a call, offline after the shift', () => {
    const states = new Map<string, Set<string>>();
    for (const e of r.events) if (e.type === 'agent.state_changed') (states.get(e.agent_id!) ?? states.set(e.agent_id!, new Set()).get(e.agent_id!)!).add(e.payload.state);
    const agents = new Set(actions.flatMap((a) => (a.kind === 'member_added' ? [a.agent] : [])));
    expect([...states.keys()].sort()).toEqual([...agents].sort());
    const all = new Set([...states.values()].flatMap((s) => [...s]));
    for (const s of ['available', 'ringing', 'on_call', 'on_hold', 'offline']) expect(all, s).toContain(s);
  });
});
