// Alert webhooks: one JSON POST per raised or cleared alert to the tenant's URL, signed with
// HMAC-SHA256 over the exact body bytes, retried with exponential backoff and jitter up to a
// bound. Deliveries to one tenant go one at a time, in the order the alerts happened (a clear
// never overtakes its raise); the queue is bounded and nothing here is awaited by the evaluator.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { backoffDelay, counter, errorFields, histogram, type AlertWebhookConfig, type Logger } from '@callboard/platform';
import type { Alert } from './evaluate.ts';

export const SIGNATURE_HEADER = 'x-callboard-signature';
export const DELIVERY_HEADER = 'x-callboard-delivery';
export const EVENT_HEADER = 'x-callboard-event';

const deliveries = counter('callboard_api_alert_webhook_deliveries_total', 'Alert webhook deliveries by outcome: delivered (2xx), failed (attempts used up or refused with 4xx), dropped (the queue was full)', ['tenant', 'outcome']);
const retries = counter('callboard_api_alert_webhook_retries_total', 'Alert webhook attempts after the first', ['tenant']);
const latencyMs = histogram('callboard_api_alert_webhook_latency_ms', 'From an alert being raised or cleared to its webhook answered 2xx, retries included', ['tenant'], [10, 50, 100, 250, 500, 1000, 5000, 30_000, 120_000, 600_000]);

/** `sha256=<hex HMAC-SHA256 of the body bytes keyed with the secret>` */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** What a receiver does: recompute over the raw body and compare in constant time. */
export function verifySignature(body: string, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const want = Buffer.from(signature(body, secret));
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The webhook body; also what the GraphQL `alerts` subscription carries, field for field. */
export function alertBody(tenant: string, a: Alert) {
  const r = a.rule;
  return {
    id: a.id,
    event: a.state === 'RAISED' ? 'alert.raised' : 'alert.cleared',
    tenant_id: tenant,
    state: a.state,
    level: r.level,
    board_id: r.board_id,
    board_name: r.board_name,
    tile_id: r.tile_id,
    tile_title: r.tile_title,
    metric: r.metric,
    queue: r.queue,
    queues: r.queues,
    direction: r.direction,
    threshold: r.threshold,
    value: a.value,
    current: a.current,
    clear_level: a.clear_level,
    raised_at: new Date(a.raised_at).toISOString(),
    cleared_at: a.cleared_at === null ? null : new Date(a.cleared_at).toISOString(),
  };
}

/** A 4xx other than 408 and 429 says the request itself is wrong: sending it again cannot help. */
const permanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

export interface WebhookDeps {
  tenant: string;
  cfg: AlertWebhookConfig;
  secret: string;
  log: Logger;
  fetch?: typeof fetch;
  random?: () => number;
  /** for tests: a stand-in for setTimeout between retries */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export class WebhookSender {
  private readonly queue: { alert: Alert; at: number }[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly wakeups = new Set<() => void>();

  constructor(private readonly d: WebhookDeps) {}

  /** Queues the alert and returns at once. */
  send(alert: Alert): void {
    if (this.stopped) return;
    if (this.queue.length >= this.d.cfg.max_queue) {
      deliveries.inc({ tenant: this.d.tenant, outcome: 'dropped' });
      this.d.log.warn({ tenant: this.d.tenant, alert: alert.id, queued: this.queue.length }, 'alert webhook queue full: alert dropped');
      return;
    }
    this.queue.push({ alert, at: alert.cleared_at ?? alert.raised_at });
    this.run();
  }

  private run(): void {
    // The loop's promise settles a few microtasks after it last found the queue empty: an alert
    // sent in between saw a loop still running and would wait for the next alert. So the loop's
    // end looks at the queue once more.
    this.running ??= this.drain().finally(() => {
      this.running = null;
      if (this.queue.length && !this.stopped) this.run();
    });
  }

  /** Stops retrying (a delivery under way is abandoned at its next wait) and waits for the loop. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.wakeups) w();
    await this.running;
  }

  pending(): number {
    return this.queue.length;
  }

  /** Resolves once every queued alert is delivered, failed or dropped. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private sleep(ms: number): Promise<void> {
    if (this.d.sleep) return this.d.sleep(ms);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.wakeups.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.wakeups.add(wake);
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const next = this.queue[0]!;
      try {
        await this.deliver(next.alert, next.at);
      } catch (e) {
        // A fault of ours before the request (the body, the signature): this alert cannot be sent,
        // and the loop, which runs again at its end, must not retry it forever.
        deliveries.inc({ tenant: this.d.tenant, outcome: 'failed' });
        this.d.log.error({ ...errorFields(e), tenant: this.d.tenant, alert: next.alert.id }, 'alert webhook: cannot build the delivery; alert dropped');
      } finally {
        this.queue.shift();
      }
    }
  }

  /** Attempts until 2xx, a permanent refusal, the attempts bound, or stop(). */
  private async deliver(alert: Alert, at: number): Promise<void> {
    const { cfg, tenant, log } = this.d;
    const body = JSON.stringify(alertBody(tenant, alert));
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'callboard-alerts/1',
      [SIGNATURE_HEADER]: signature(body, this.d.secret),
      [DELIVERY_HEADER]: `${alert.id}.${alert.state.toLowerCase()}`,
      [EVENT_HEADER]: alert.state === 'RAISED' ? 'alert.raised' : 'alert.cleared',
    };
    const doFetch = this.d.fetch ?? fetch;
    let why = '';
    for (let attempt = 0; attempt < cfg.max_attempts && !this.stopped; attempt++) {
      if (attempt > 0) {
        retries.inc({ tenant });
        await this.sleep(backoffDelay(attempt - 1, cfg.min_backoff_ms, cfg.max_backoff_ms, this.d.random));
        if (this.stopped) break;
      }
      try {
        const res = await doFetch(cfg.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(cfg.timeout_ms), redirect: 'error' });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          deliveries.inc({ tenant, outcome: 'delivered' });
          latencyMs.observe({ tenant }, Math.max(0, (this.d.now ?? Date.now)() - at));
          return;
        }
        why = `HTTP ${res.status}`;
        if (permanent(res.status)) break;
      } catch (e) {
        why = (e as Error).message;
      }
    }
    deliveries.inc({ tenant, outcome: 'failed' });
    log.warn({ tenant, alert: alert.id, state: alert.state, why }, this.stopped ? 'alert webhook abandoned at shutdown' : 'alert webhook failed: attempts used up or refused');
  }
}
