// Fault 5: the API process SIGKILLed under 200 live board subscribers, and one subscriber that
// never reads. The subscribers are the wallboard's own client code (wallboard/src/lib/sse.ts,
// reconnecting with wallboard/src/lib/backoff.ts as LiveBoard does): after the kill and restart
// every one of them is live again without a reload, and its board counts every call once; the
// client that never reads delays nobody.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, freePort, migrate, topicName } from '@callboard/platform';
import { partitionKey, type CanonicalEvent } from '@callboard/schemas';
import { BoardStore, newBoardId, validateBoard } from '../../api/src/boards.ts';
import { createToken } from '../../api/src/tokens.ts';
import { queueCall } from '../../api/test/events.ts';
import { allMigrations } from '../../cli/migrations.ts';
import { backoffDelayMs } from '../../wallboard/src/lib/backoff.ts';
import { BOARD_SUBSCRIPTION } from '../../wallboard/src/lib/queries.ts';
import { streamSubscription } from '../../wallboard/src/lib/sse.ts';
import { eventually, testConfig, uniqueId } from '../helpers.ts';
import { childEnv, killHard, record, ROOT, startChild, topicsAndProducer, type Child } from './helpers.ts';

const CHILD = join(ROOT, 'test/faults/api-child.ts');
const SUBSCRIBERS = 200;

interface Board {
  board: { live: { today: { offered: number } } } | null;
}

/** One TV: LiveBoard's loop (wallboard/src/lib/live.svelte.ts) without the Svelte state. */
class Subscriber {
  updates = 0;
  lastUpdateAt = 0;
  reconnects = 0;
  offered = -1;
  private stopped = false;
  private ac: AbortController | null = null;
  private attempt = 0;
  done: Promise<void>;

  constructor(url: string, token: string, boardId: string) {
    this.done = this.loop(url, token, boardId);
  }

  private async loop(url: string, token: string, id: string): Promise<void> {
    while (!this.stopped) {
      this.ac = new AbortController();
      try {
        await streamSubscription<Board>(
          url,
          token,
          { query: BOARD_SUBSCRIPTION, variables: { id } },
          {
            onAlive: () => {},
            onNext: (r) => {
              if (!r.data?.board) return;
              this.updates++;
              this.lastUpdateAt = Date.now();
              this.offered = r.data.board.live.today.offered;
              this.attempt = 0;
            },
          },
          this.ac.signal,
        );
      } catch {
        // The stream broke (the API died): reconnect after the client's own backoff.
      }
      if (this.stopped) break;
      this.reconnects++;
      await new Promise((r) => setTimeout(r, backoffDelayMs(this.attempt++, Math.random())));
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.ac?.abort();
    return this.done;
  }
}

const dirs: string[] = [];
let api: Child | undefined;
const subscribers: Subscriber[] = [];
let slow: AbortController | undefined;
afterAll(async () => {
  slow?.abort();
  await Promise.all(subscribers.map((s) => s.stop()));
  if (api) await killHard(api);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('fault: the API SIGKILLed under 200 SSE subscribers', () => {
  it('every subscriber resumes after the restart without a reload; a client that never reads delays nobody', { timeout: 600_000 }, async () => {
    const began = Date.now();
    const file = { tenants: [{ id: 'acme', timezone: 'UTC' }] };
    const cfg = testConfig(file);
    const chDir = mkdtempSync(join(tmpdir(), 'callboard-fault-api-'));
    dirs.push(chDir);
    const configFile = join(chDir, 'callboard.json');
    writeFileSync(configFile, JSON.stringify(file));
    const chPath = join(chDir, 'clickhouse');
    // The board and the TV's token, written before the API opens the engine (one process at a time).
    const ch = await createClickHouse(cfg, { embeddedPath: chPath });
    await migrate(ch, allMigrations());
    const boardId = newBoardId();
    await new BoardStore(ch).put(
      'acme',
      boardId,
      validateBoard({ name: 'Floor', columns: 12, tiles: [{ id: 'off', kind: 'KPI', x: 0, y: 0, w: 2, h: 1, metric: 'offered' }] }),
      1,
    );
    const token = (await createToken(ch, { tenant_id: 'acme', role: 'display', board_id: boardId, label: 'fault tv' })).token;
    await ch.close();

    const { producer } = await topicsAndProducer(cfg);
    const calls: CanonicalEvent[][] = [];
    const call = async () => {
      const events = queueCall({ call: uniqueId('sse'), queue: 'sales', at: new Date(Date.now() - 1000).toISOString(), waitS: 0, outcome: 'waiting' });
      calls.push(events);
      await producer.send({ topic: topicName(cfg, 'events'), acks: -1, messages: events.map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
    };

    const port = await freePort();
    const env = childEnv(cfg, { CALLBOARD_CONFIG: configFile, FAULT_CH_PATH: chPath, FAULT_API_PORT: String(port) });
    api = startChild(CHILD, env);
    await api.ready;
    const url = `http://127.0.0.1:${port}/graphql`;
    const all = (pred: (s: Subscriber) => boolean) => (subscribers.every(pred) ? true : undefined);
    const count = (pred: (s: Subscriber) => boolean) => subscribers.filter(pred).length;

    await call();
    for (let i = 0; i < SUBSCRIBERS; i++) subscribers.push(new Subscriber(url, token, boardId));
    await eventually(() => all((s) => s.offered === 1), 120_000, `all ${SUBSCRIBERS} subscribers to see the first call`);

    // A client that takes the stream and never reads it.
    slow = new AbortController();
    const stalled = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: BOARD_SUBSCRIPTION, variables: { id: boardId } }),
      signal: slow.signal,
    });
    expect(stalled.status).toBe(200);
    const fanOut: number[] = [];
    for (let k = 0; k < 3; k++) {
      const at = Date.now();
      await call();
      await eventually(() => all((s) => s.offered === calls.length), 60_000, `all subscribers to see call ${calls.length} beside a client that never reads`);
      fanOut.push(Date.now() - at);
    }

    // The kill.
    const killedAt = Date.now();
    await killHard(api);
    api = startChild(CHILD, env);
    await api.ready;
    const restartMs = Date.now() - killedAt;
    await eventually(
      () => all((s) => s.lastUpdateAt > killedAt),
      120_000,
      `all ${SUBSCRIBERS} subscribers to be live again (${count((s) => s.lastUpdateAt > killedAt)} so far)`,
    );
    const resumedMs = Date.now() - killedAt;
    // Live after the restart, and the rebuilt board counts each call once.
    await call();
    await eventually(() => all((s) => s.offered === calls.length), 60_000, 'all subscribers to see a call made after the restart');
    const offered = new Set(subscribers.map((s) => s.offered));
    await producer.disconnect();

    record({
      case: 'API SIGKILLed under 200 SSE subscribers',
      kills: 1,
      survived: 1,
      events: calls.flat().length,
      lost: [...offered].reduce((a, o) => a + Math.max(0, calls.length - o), 0),
      doubled: [...offered].reduce((a, o) => a + Math.max(0, o - calls.length), 0),
      recovery_ms: resumedMs,
      seconds: Math.round((Date.now() - began) / 1000),
      note: `${count((s) => s.lastUpdateAt > killedAt)} of ${SUBSCRIBERS} subscribers live again without a reload, ${Math.round(resumedMs / 1000)} s after the kill (API up again after ${Math.round(restartMs / 1000)} s; the rest is the clients' backoff); with a client that never reads, a call reached all ${SUBSCRIBERS} in ${fanOut.join(', ')} ms`,
    });
    expect(count((s) => s.lastUpdateAt > killedAt)).toBe(SUBSCRIBERS);
    expect(count((s) => s.reconnects > 0)).toBe(SUBSCRIBERS);
    expect([...offered]).toEqual([calls.length]);
  });
});
