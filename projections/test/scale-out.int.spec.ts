// Scale-out: three real `callboard projections` processes in one consumer group on a 12-partition
// topic of a 3-node Kafka cluster, writing one ClickHouse engine. Mid-run one process is SIGKILLed
// and one broker stopped; the input's second half is produced with that broker down. The final
// tables must equal a single-process fold of the same events.
//
// This file starts its own 3-node cluster instead of using the run's shared broker (STYLE 3):
// a broker must be stopped, and the shared one is every other test's. The engine is one embedded
// chdb served over the HTTP interface (bench/clickhouse-front.ts says why).
import { AssignerProtocol, type Admin } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, ensureTopics, migrate, readMigrations, topicName, type ClickHouse } from '@callboard/platform';
import { committed, logEnd, PARTITIONS, produce, scaleOutEvents, spawnProjections, startRig, type ProjectionsProcess, type ScaleOutRig } from '../../bench/scale-out-harness.ts';
import { MIGRATIONS_DIR } from '../src/migrations-dir.ts';
import { agentMetrics, callMetrics, queueMetrics } from '../src/queries.ts';
import { tableChecksum } from '../src/rebuild.ts';
import { loadEvents } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { eventually, toolKafka, uniqueId } from '../../test/helpers.ts';
import { utc } from './given.ts';

const CALLS = 1200;

let rig: ScaleOutRig | undefined;
let admin: Admin | undefined;
const procs: ProjectionsProcess[] = [];
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await admin?.disconnect();
  await rig?.close();
}, 120_000);

/** Partitions each member of the group holds, by member id. */
async function assignments(a: Admin, group: string, topic: string): Promise<number[][]> {
  const { groups } = await a.describeGroups([group]);
  return (groups[0]?.members ?? []).map((m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? []);
}

describe('scale-out', () => {
  it('3 processes on 12 partitions, one SIGKILLed and one broker stopped mid-run, fold what one process folds', { timeout: 900_000 }, async () => {
    const id = uniqueId('so');
    rig = await startRig({ prefix: `${id}.`, database: `cb_${id}` });
    const { cfg } = rig;
    // The input is written, and the group and the log are watched, by the tests' own client
    // (kafkajs); the processes under test run on the services' client.
    const kafka = toolKafka(cfg);
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await migrate(rig.ch, readMigrations(MIGRATIONS_DIR));
    const topic = topicName(cfg, 'events');
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions).toHaveLength(PARTITIONS);
    expect(meta.topics[0]!.partitions.every((p) => p.replicas.length === 3)).toBe(true);

    const tenant = uniqueId('tso');
    const events = scaleOutEvents(tenant, CALLS, utc('2026-03-02T06:00:00Z'));
    const half = Math.floor(events.length / 2);
    await produce(kafka, topic, events.slice(0, half));

    for (let i = 0; i < 3; i++) procs.push(await spawnProjections(rig.env));
    await Promise.all(procs.map((p) => p.ready));
    const group = `${cfg.kafka.topicPrefix}callboard-projections-events`;
    // All three hold partitions: the work is spread, not taken by one member.
    const held = await eventually(
      async () => {
        const a = await assignments(admin!, group, topic);
        return a.length === 3 && a.every((p) => p.length > 0) ? a : undefined;
      },
      120_000,
      'three members each holding partitions',
    );
    expect(held.flat().sort((x, y) => x - y)).toEqual([...Array(PARTITIONS).keys()]);
    await eventually(async () => ((await committed(admin!, cfg)) > 0 ? true : undefined), 120_000, 'a first commit');

    // From here the two survivors must keep running: one that exits fails the wait for the fold
    // at once, with its exit code, instead of at its deadline.
    const survivors = [procs[0]!, procs[2]!];
    let gone: Error | undefined;
    for (const [i, p] of survivors.entries()) void p.exited.then((code) => (gone ??= new Error(`surviving projections process ${i + 1} of 2 exited (${code}) before the end`)));

    procs[1]!.child.kill('SIGKILL');
    await procs[1]!.exited;
    const stopped = rig.kafka.nodes[1]!;
    await stopped.stop();
    // The rest is produced with that broker down: acks=all needs only the two in-sync replicas.
    await produce(kafka, topic, events.slice(half));

    const total = await logEnd(admin, cfg);
    expect(total).toBe(events.length);
    const folded = await eventually(
      async () => {
        if (gone) return gone;
        const n = await committed(admin!, cfg);
        if (n < total) throw new Error(`${n} of ${total} committed`);
        return true;
      },
      600_000,
      'the two remaining processes to fold everything',
    );
    if (folded !== true) throw folded;
    // The killed member's partitions went to the survivors.
    expect((await assignments(admin, group, topic)).flat().sort((x, y) => x - y)).toEqual([...Array(PARTITIONS).keys()]);
    for (const p of survivors) p.child.kill('SIGTERM');
    expect(await Promise.all(survivors.map((p) => p.exited))).toEqual([0, 0]);

    const ch = rig.ch;
    const ref: ClickHouse = { ...ch, db: `${ch.db}_ref` };
    await ch.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${ref.db}` });
    await migrate(ref, readMigrations(MIGRATIONS_DIR));
    await loadEvents(new ProjectionStore(ref), events);

    for (const t of ['calls', 'queue_legs', 'agent_calls', 'agent_intervals']) expect(await tableChecksum(ch, t), t).toBe(await tableChecksum(ref, t));
    const query = { tenant_id: tenant, timezone: 'Africa/Nairobi', week_start: 'monday' as const, period: { kind: 'MONTH' as const, date: '2026-03' }, settings: () => DEFAULT_QUEUE_SETTINGS, now: new Date('2026-06-01T00:00:00Z') };
    const scaled = [await queueMetrics(ch, { ...query, group_by: 'queue' }), await queueMetrics(ch, { ...query, group_by: 'interval', interval_minutes: 60 }), await agentMetrics(ch, { ...query, group_by: 'agent' }), await callMetrics(ch, { ...query, group_by: 'none' })];
    const single = [await queueMetrics(ref, { ...query, group_by: 'queue' }), await queueMetrics(ref, { ...query, group_by: 'interval', interval_minutes: 60 }), await agentMetrics(ref, { ...query, group_by: 'agent' }), await callMetrics(ref, { ...query, group_by: 'none' })];
    expect(scaled).toEqual(single);
    expect(scaled[0]!.reduce((a, r) => a + ('offered' in r ? r.offered : 0), 0)).toBe(CALLS);
    const rs = await ch.client.query({ query: `SELECT uniqExact(event_id) AS n FROM ${ch.db}.events`, format: 'JSONEachRow' });
    expect(Number(((await rs.json()) as { n: number }[])[0]!.n)).toBe(events.length);
  });
});
