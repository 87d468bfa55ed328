// The whole stack the wallboard e2e test and the heap bench run against: the real projections
// consumer and the real API (live fold, GraphQL, SSE, static wallboard) on one embedded
// ClickHouse, started by the one composition root (cli/stack.ts), fed by canonical events
// produced to Kafka through the ingest sink.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunningApi } from '@callboard/api/main';
import { createToken } from '@callboard/api/tokens';
import { IngestSink } from '@callboard/ingest/sink';
import type { Projections } from '@callboard/projections/main';
import { createLogger, freePort, type CallboardConfig, type ClickHouse, type KafkaProducer } from '@callboard/platform';
import { demoBoard } from '../../cli/demo-board.ts';
import { startStack, type Stack } from '../../cli/stack.ts';
import { makeEvent, type CanonicalEvent, type EventOf, type EventType } from '@callboard/schemas';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const wallboardDist = fileURLToPath(new URL('../../wallboard/dist', import.meta.url));

export const TENANT = 'acme';
/** The tenant the stack is configured with (config file part). */
export const STACK_FILE = {
  tenants: [{ id: TENANT, name: 'Acme', timezone: 'Africa/Nairobi', week_start: 'monday', locale: 'en-KE' }],
  queues: [
    { tenant: TENANT, queue: 'sales', name: 'Sales', sl_threshold_s: 20 },
    { tenant: TENANT, queue: 'support', name: 'Support', sl_threshold_s: 20 },
  ],
  // An agent whose PBX gives no name (a Yeastar extension): the board shows this one.
  agents: [{ tenant: TENANT, agent: '1020', name: 'Wanjiku Kamau-Otieno' }],
};

/** Builds the wallboard so the test runs the code in the tree, not a stale dist. */
export function buildWallboard(outDir = wallboardDist): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url)), 'build', '--logLevel', 'warn', '--outDir', outDir, '--emptyOutDir'], {
    cwd: fileURLToPath(new URL('../../wallboard', import.meta.url)),
    stdio: 'inherit',
  });
  if (!existsSync(`${outDir}/index.html`)) throw new Error(`wallboard build produced no ${outDir}/index.html`);
}


/** The demo's own board (cli/demo-board.ts): the e2e checks the board `npm start` shows. */
export const FLOOR_BOARD = demoBoard(['sales', 'support']);

let seq = 0;
export const PBX = 'acme-pbx';
/** One canonical event through the real makeEvent (deterministic ids from a unique vendor key). */
export function ev<T extends EventType>(type: T, atMs: number, subject: { call_id: string } | { agent_id: string } | Record<string, never>, payload: EventOf<T>['payload'], pbx = PBX, receivedAtMs = atMs): CanonicalEvent {
  const at = new Date(atMs).toISOString();
  seq++;
  return makeEvent(
    type,
    { tenant_id: TENANT, pbx_id: pbx, source: 'simulator', occurred_at: at, received_at: new Date(receivedAtMs).toISOString(), raw_ref: null, vendor_key: `wallboard-e2e|${process.pid}|${seq}` },
    subject as never,
    payload,
  ) as CanonicalEvent;
}

export function agentState(agent: string, name: string | undefined, atMs: number, state: EventOf<'agent.state_changed'>['payload']['state'], reason?: string, pbx = PBX, receivedAtMs = atMs): CanonicalEvent[] {
  return [ev('agent.state_changed', atMs, { agent_id: agent }, { state, ...(name ? { agent_name: name } : {}), ...(reason ? { reason } : {}) }, pbx, receivedAtMs)];
}

export function joinQueue(agent: string, name: string | undefined, queue: string, atMs: number, pbx = PBX, receivedAtMs = atMs): CanonicalEvent {
  return ev('agent.queue_joined', atMs, { agent_id: agent }, { queue, ...(name ? { agent_name: name } : {}) }, pbx, receivedAtMs);
}

/** A queue call from entry to its end: answered after waitS, abandoned, or still waiting. */
export function queueCall(call: string, queue: string, atMs: number, waitS: number, outcome: 'answered' | 'abandoned' | 'waiting', agent = '1001', talkS = 45): CanonicalEvent[] {
  const c = { call_id: call };
  const leg = `${call}:${queue}:1`;
  const caller = `+2547${String(Math.abs(hash(call))).padStart(8, '0').slice(-8)}`;
  const out = [
    ev('call.started', atMs, c, { direction: 'inbound', caller_number: caller, called_number: '0800100200' }),
    ev('call.queued', atMs, c, { queue, leg_id: leg, position: 1, caller_number: caller }),
  ];
  const w = waitS * 1000;
  if (outcome === 'answered') {
    out.push(ev('call.answered', atMs + w, c, { agent_id: agent, queue, leg_id: leg, wait_ms: w }));
    out.push(ev('call.agent_completed', atMs + w + talkS * 1000, c, { agent_id: agent, queue, leg_id: leg, reason: 'caller', talk_ms: talkS * 1000, hold_ms: 0, wrap_ms: 0 }));
    out.push(ev('call.ended', atMs + w + talkS * 1000, c, { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: w + talkS * 1000, billsec_ms: talkS * 1000, direction: 'inbound' }));
  } else if (outcome === 'abandoned') {
    out.push(ev('call.abandoned', atMs + w, c, { queue, leg_id: leg, wait_ms: w, position: 1 }));
    out.push(ev('call.ended', atMs + w, c, { disposition: 'NO ANSWER', raw_disposition: 'NO ANSWER', duration_ms: w, billsec_ms: 0, direction: 'inbound' }));
  }
  return out;
}

function hash(s: string): number {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return h;
}

export interface WallboardStack {
  cfg: CallboardConfig;
  ch: ClickHouse;
  port: number;
  url: string;
  api: RunningApi | null;
  projections: Projections;
  producer: KafkaProducer;
  sink: IngestSink;
  adminToken: string;
  supervisorToken: string;
  displayToken: string;
  boardId: string;
  /** The Health ingest reports PBX links into (one per stack, shared with the API). */
  health: Stack['health'];
  produce(events: CanonicalEvent[]): Promise<void>;
  gql<T>(token: string, query: string, variables?: Record<string, unknown>): Promise<T>;
  stopApi(): Promise<void>;
  startApi(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWallboardStack(cfg: CallboardConfig, opts: { dist?: string } = {}): Promise<WallboardStack> {
  const log = createLogger('wallboard-e2e', cfg.logLevel);
  const port = await freePort();
  const stack = await startStack(
    cfg,
    {
      kafkaTopics: true,
      clickhouse: true,
      projections: { groupId: `wallboard-e2e-${process.pid}` },
      api: { port, host: '127.0.0.1', settings: { wallboardDist: opts.dist ?? wallboardDist, ratePerSecond: 200, rateBurst: 1000 } },
      producer: true,
    },
    { log },
  );
  const ch = stack.ch!;
  const producer = stack.producer!;
  const sink = new IngestSink(producer, cfg);
  const url = stack.api!.url;

  async function gql<T>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const j = (await res.json()) as { data?: T; errors?: { message: string }[] };
    if (j.errors?.length) throw new Error(`GraphQL error: ${j.errors.map((e) => e.message).join('; ')}`);
    return j.data!;
  }

  const adminToken = (await createToken(ch, { tenant_id: TENANT, role: 'admin', label: 'wallboard e2e admin' })).token;
  const supervisorToken = (await createToken(ch, { tenant_id: TENANT, role: 'supervisor', label: 'wallboard e2e desk' })).token;
  const created = await gql<{ createBoard: { id: string } }>(adminToken, 'mutation($input: BoardInput!) { createBoard(input: $input) { id } }', { input: FLOOR_BOARD });
  const boardId = created.createBoard.id;
  const displayToken = (await createToken(ch, { tenant_id: TENANT, role: 'display', board_id: boardId, label: 'wallboard e2e tv' })).token;

  return {
    cfg,
    ch,
    port,
    url,
    get api() {
      return stack.api;
    },
    projections: stack.projections!,
    producer,
    sink,
    adminToken,
    supervisorToken,
    displayToken,
    boardId,
    health: stack.health,
    produce: (events) => sink.canonical(events),
    gql,
    stopApi: () => stack.stopApi(),
    startApi: () => stack.startApi(),
    stop: () => stack.stop(),
  };
}
