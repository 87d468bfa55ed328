// The thin shell around the evaluator: on a timer (not inside the live fold, which it must never
// slow down) it reads each tenant's boards and live state, steps the evaluator, publishes what
// changed to the `alerts` subscribers and hands it to the tenant's webhook sender, which never
// blocks it. Boards are re-read when one is edited here and every 30 s (another API instance may
// have edited one).
import { alertSettings, alertWebhookSecret, counter, type CallboardConfig, type Logger } from '@callboard/platform';
import type { Board, BoardStore } from '../boards.ts';
import type { LiveSnapshot, LiveStore } from '../live.ts';
import { MemoryPubSub, type PubSub, type Topics } from '../pubsub.ts';
import { active, checksOf, evaluate, type Alert, type RuleState } from './evaluate.ts';
import { WebhookSender } from './webhook.ts';

const raisedTotal = counter('callboard_api_alerts_total', 'Alerts raised and cleared', ['tenant', 'level', 'state']);

export interface AlertFeed {
  /** Alerts raised and not yet cleared in `tenant`, oldest first. */
  active(tenant: string): Alert[];
  /** Every raise and clear of `tenant`'s alerts; returns the unsubscribe. */
  subscribe(tenant: string, listener: (a: Alert) => void): () => void;
}

export interface AlertEngineDeps {
  cfg: CallboardConfig;
  log: Logger;
  live: LiveStore;
  boards: Pick<BoardStore, 'list'>;
  /** the API's pub/sub: board edits arrive on it */
  pubsub: PubSub<Topics>;
  now: () => number;
  /** how often figures are judged; a crossing is seen within this (plus the minimum duration) */
  tickMs?: number;
  boardsRefreshMs?: number;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

export interface AlertEngine extends AlertFeed {
  /** Starts judging on the timer: call it once the live state is rebuilt, so replayed history raises nothing. */
  start(): void;
  /** Judges every tenant now (the timer calls it; tests may too). */
  tick(): void;
  stop(): Promise<void>;
}

interface TenantAlerts {
  boards: Board[];
  loadedAt: number;
  loading: boolean;
  states: Map<string, RuleState>;
  offBoard: () => void;
}

/** Reads the webhook secrets (a missing one throws ConfigError here, at start-up); judges nothing until start(). */
export function createAlerts(d: AlertEngineDeps): AlertEngine {
  const tickMs = d.tickMs ?? 250;
  const refreshMs = d.boardsRefreshMs ?? 30_000;
  const feed = new MemoryPubSub<{ alert: Alert }>();
  const tenants = new Map<string, TenantAlerts>();
  // Secrets are read now so a missing one stops the API at start, not at the first alert.
  const senders = new Map(
    d.cfg.alerts.filter((a) => a.webhook).map((a) => [a.tenant, new WebhookSender({ tenant: a.tenant, cfg: a.webhook!, secret: alertWebhookSecret(a, d.env), log: d.log, fetch: d.fetch })]),
  );

  const load = (tenant: string, t: TenantAlerts) => {
    if (t.loading) return;
    t.loading = true;
    d.boards
      .list(tenant)
      .then((b) => {
        t.boards = b;
        t.loadedAt = d.now();
      })
      .catch((e: unknown) => d.log.warn({ tenant, err: (e as Error).message }, 'alerts: cannot read the boards; keeping the last ones'))
      .finally(() => (t.loading = false));
  };

  const tenantState = (tenant: string): TenantAlerts => {
    let t = tenants.get(tenant);
    if (!t) {
      const fresh: TenantAlerts = { boards: [], loadedAt: -Infinity, loading: false, states: new Map(), offBoard: () => {} };
      fresh.offBoard = d.pubsub.subscribe('board', tenant, () => {
        fresh.loadedAt = -Infinity;
      });
      tenants.set(tenant, fresh);
      t = fresh;
    }
    return t;
  };

  const judge = (tenant: string, t: TenantAlerts, now: number) => {
    const snaps = new Map<string, LiveSnapshot>();
    const snapshotOf = (queues: string[]) => {
      const key = queues.join('\u0000');
      let s = snaps.get(key);
      if (!s) snaps.set(key, (s = d.live.snapshot(tenant, now, queues)));
      return s;
    };
    const opts = alertSettings(d.cfg, tenant);
    const checks = t.boards.flatMap((b) => checksOf(b, snapshotOf));
    for (const a of evaluate(t.states, checks, now, { minDurationMs: opts.min_duration_s * 1000, hysteresis: opts.hysteresis })) {
      // A raised alert's figure moved: screens update their banner; no crossing to count or send.
      if (a.moved) {
        feed.publish('alert', tenant, a);
        continue;
      }
      raisedTotal.inc({ tenant, level: a.rule.level, state: a.state });
      d.log.info({ tenant, alert: a.id, state: a.state, board: a.rule.board_id, tile: a.rule.tile_id, metric: a.rule.metric, queue: a.rule.queue, level: a.rule.level, value: a.value }, `alert ${a.state.toLowerCase()}`);
      feed.publish('alert', tenant, a);
      senders.get(tenant)?.send(a);
    }
  };

  const tick = () => {
    const now = d.now();
    const ids = new Set([...d.cfg.tenants.map((t) => t.id), ...d.live.tenantIds()]);
    for (const tenant of ids) {
      const t = tenantState(tenant);
      if (now - t.loadedAt >= refreshMs) load(tenant, t);
      try {
        judge(tenant, t, now);
      } catch (e) {
        d.log.error({ tenant, err: e }, 'alerts: evaluation failed');
      }
    }
  };

  let timer: NodeJS.Timeout | null = null;

  return {
    start: () => {
      timer ??= setInterval(tick, tickMs);
      timer.unref();
    },
    tick,
    active: (tenant) => active(tenants.get(tenant)?.states ?? new Map()),
    subscribe: (tenant, listener) => feed.subscribe('alert', tenant, listener),
    stop: async () => {
      if (timer) clearInterval(timer);
      for (const t of tenants.values()) t.offBoard();
      await Promise.all([...senders.values()].map((s) => s.stop()));
    },
  };
}
