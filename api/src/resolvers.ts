// Resolvers: thin. Every one reads the tenant from the caller's token (never from arguments),
// checks the role, and hands off to the live store, the board store or the ClickHouse queries.
import { graphql } from './graphql.ts';
import { DEFAULT_QUEUE_SETTINGS, queueSettings, tenantById, type CallboardConfig, type ClickHouse, type Logger } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { boardDisplayResolvers, boardQueues, newBoardId, validateBoard, type Board, type BoardInput, type BoardStore } from './boards.ts';
import { callLegs, callTimeline, getCall, searchCalls, type CallFilter } from './calls.ts';
import { EngineGate, type Deadline } from './engine-gate.ts';
import { ApiError, badInput, forbidden, notFound } from './errors.ts';
import type { LiveStore } from './live.ts';
import { bounded, coalesced, type PubSub, type Topics } from './pubsub.ts';
import type { ApiSettings, Health } from '@callboard/platform';
import { checkLabel, createToken, checkNewToken, type Auth, type Role } from './tokens.ts';
import type { History, HoursArgs, MetricsFilterArg, PeriodArg } from './history.ts';
import { counter } from '@callboard/platform';
import { coverageResolvers, reconciliationQuery, type CoverageDeps } from './reconciliation.ts';
import type { AlertFeed } from './alerts/engine.ts';
import { subscribeAlerts } from './alerts/subscription.ts';
import { asksFor, WAIT_PERCENTILES } from './selection.ts';
import type { GraphQLResolveInfo } from 'graphql';

export interface Ctx {
  auth: Auth;
  /** Set for queries and mutations (limits.ts); subscriptions' reads take the gate's default. */
  deadline?: Deadline;
}

export interface ResolverDeps {
  cfg: CallboardConfig;
  log: Logger;
  ch: ClickHouse;
  live: LiveStore;
  pubsub: PubSub<Topics>;
  boards: BoardStore;
  history: History;
  settings: ApiSettings;
  now: () => number;
  /** One per API: the engine's slots are shared by everything this process serves. */
  gate?: EngineGate;
  /** PBX link state for the board, when ingest runs in this process. */
  health?: Health;
  /** Board threshold alerts (alerts/engine.ts); without it the `alerts` subscription is UNAVAILABLE. */
  alerts?: AlertFeed;
}

const droppedSubscribers = counter('callboard_api_subscribers_dropped_total', 'Subscribers ended because they fell too far behind', ['subscription']);

const READERS: Role[] = ['admin', 'analyst', 'supervisor'];
const EDITORS: Role[] = ['admin', 'supervisor'];

function need(ctx: Ctx, roles: Role[], what: string): Auth {
  if (!roles.includes(ctx.auth.role)) {
    if (ctx.auth.role === 'display') throw new ApiError('FORBIDDEN', `a display token reads only board ${ctx.auth.board_id} (query board(id) or subscribe to board(id)); it may not ${what}`);
    throw forbidden(what, ctx.auth.role);
  }
  return ctx.auth;
}

const upper = (r: string) => r.toUpperCase();
const lower = (r: string) => r.toLowerCase();

export function eventOut(e: CanonicalEvent | Record<string, unknown>) {
  const x = e as Record<string, unknown>;
  return {
    event_id: x.event_id,
    type: x.type,
    occurred_at: x.occurred_at,
    received_at: x.received_at,
    pbx_id: x.pbx_id,
    source: x.source,
    call_id: x.call_id ?? null,
    agent_id: x.agent_id ?? null,
    payload: x.payload ?? {},
    raw: x.raw_ref ?? null,
  };
}

const { GraphQLScalarType, Kind } = graphql;

const anyJson = new GraphQLScalarType({
  name: 'JSON',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: () => {
    throw badInput('JSON literals are not accepted as arguments');
  },
});

function stringScalar(name: string, re: RegExp, what: string) {
  const check = (v: unknown) => {
    if (typeof v !== 'string' || !re.test(v)) throw badInput(`${name} ${JSON.stringify(v)} is not ${what}`);
    return v;
  };
  return new GraphQLScalarType({
    name,
    serialize: (v) => v,
    parseValue: check,
    parseLiteral: (ast) => check(ast.kind === Kind.STRING ? ast.value : undefined),
  });
}

export function createResolvers(d: ResolverDeps) {
  const tenantOf = (auth: Auth) => {
    const t = tenantById(d.cfg, auth.tenant_id);
    return t ?? { id: auth.tenant_id, name: auth.tenant_id, timezone: 'UTC', week_start: 'monday' as const, locale: 'en-GB' };
  };
  const settingsOut = (queue: string | null, s: typeof DEFAULT_QUEUE_SETTINGS) => ({ queue, ...s });
  /** A subscriber that fell API_SUBSCRIBER_BUFFER events behind (a client that stopped reading) is cut off: said once, counted. */
  const dropped = (subscription: string, auth: Auth | null) => {
    droppedSubscribers.inc({ subscription });
    d.log.warn(
      { subscription, tenant: auth?.tenant_id, token_label: auth?.label, buffer: d.settings.subscriberBuffer },
      'subscriber dropped: it fell API_SUBSCRIBER_BUFFER events behind (a client that stopped reading); its stream ends with an error',
    );
  };

  const gate =
    d.gate ??
    new EngineGate({ concurrency: d.settings.engineConcurrency, cacheS: d.settings.metricsCacheS, deadlineMs: d.settings.queryDeadlineMs, now: d.now });
  /** An engine read on behalf of `auth`, through the fair queue; equal `key`s in flight share one read. */
  const read = <T>(auth: Auth, deadline: Deadline | undefined, key: unknown[], task: () => Promise<T>, cacheable = false): Promise<T> =>
    gate.read({ tenant: auth.tenant_id, key: JSON.stringify(key), cacheable, deadline: deadline ?? gate.defaultDeadline() }, task);
  /** A metrics-like read keyed by the period it resolves to now; reused while closed. */
  const periodRead = <T>(auth: Auth, deadline: Deadline | undefined, what: string, period: PeriodArg, rest: unknown[], task: () => Promise<T>): Promise<T> => {
    const p = d.history.periodKey(tenantOf(auth), period);
    return read(auth, deadline, [what, p?.key ?? period, ...rest], task, p?.closed ?? false);
  };

  // A wall of screens loading one board at once is one engine read (mutations read boards
  // directly: they must see the latest version).
  async function boardFor(auth: Auth, id: string, deadline?: Deadline): Promise<Board> {
    if (auth.role === 'display' && id !== auth.board_id) throw new ApiError('FORBIDDEN', `this display token reads board ${auth.board_id} only, not ${JSON.stringify(id)}`);
    const b = await read(auth, deadline, ['board', id], () => d.boards.get(auth.tenant_id, id));
    if (!b) throw notFound('board', id);
    return b;
  }

  // Many subscribers of one board ask for the same snapshot in the same instant: compute it once
  // per state version and 100 ms (max_wait moves with the clock), share it among them.
  const snapCache = new Map<string, { version: number; at: number; snap: ReturnType<LiveStore['snapshot']> }>();
  const liveSnapshot = (tenant: string, queues: string[], now: number) => {
    const key = `${tenant}\u0000${queues.join('\u0000')}`;
    const version = d.live.version(tenant);
    const hit = snapCache.get(key);
    if (hit && hit.version === version && now - hit.at < 100 && now >= hit.at) return hit.snap;
    const snap = d.live.snapshot(tenant, now, queues);
    if (snapCache.size > 10_000) snapCache.clear();
    snapCache.set(key, { version: d.live.version(tenant), at: now, snap });
    return snap;
  };

  // Intraday series behind a board's chart tile: one ClickHouse query per board, queues and
  // interval every 30 s at most, however many screens show the board.
  const intradayCache = new Map<string, { at: number; value: Promise<unknown> }>();
  const boardIntraday = (auth: Auth, queues: string[], interval: string) => {
    const key = `${auth.tenant_id}\u0000${interval}\u0000${queues.join('\u0000')}`;
    const now = d.now();
    const hit = intradayCache.get(key);
    if (hit && now - hit.at < 30_000) return hit.value;
    const value = periodRead(auth, undefined, 'intraday', { kind: 'TODAY' }, [interval, queues], () => d.history.intraday(auth.tenant_id, tenantOf(auth), null, interval, { queues }));
    value.catch(() => intradayCache.delete(key));
    if (intradayCache.size > 10_000) intradayCache.clear();
    intradayCache.set(key, { at: now, value });
    return value;
  };

  const coverageDeps: CoverageDeps = {
    cfg: d.cfg,
    ch: d.ch,
    now: d.now,
    need,
    tenantOf,
    read,
    dayKey: (t, date) => d.history.periodKey(t, { kind: 'DAY', date })?.key ?? null,
  };

  const display = boardDisplayResolvers(d, liveSnapshot);

  return {
    ...coverageResolvers(coverageDeps),
    ...display.types,
    DateTime: stringScalar('DateTime', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/, 'an ISO-8601 instant such as 2026-03-10T06:00:00.000Z'),
    Date: stringScalar('Date', /^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD'),
    JSON: anyJson,

    Query: {
      me: (_: unknown, __: unknown, ctx: Ctx) => ({ tenant_id: ctx.auth.tenant_id, role: upper(ctx.auth.role), board_id: ctx.auth.board_id, token_label: ctx.auth.label || null }),
      tenant: (_: unknown, __: unknown, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'read tenant settings');
        const t = tenantOf(auth);
        return {
          ...t,
          week_start: upper(t.week_start),
          queue_settings: d.cfg.queues.filter((q) => q.tenant === auth.tenant_id).map((q) => settingsOut(q.queue, queueSettings(d.cfg, auth.tenant_id, q.queue))),
          default_queue_settings: settingsOut(null, DEFAULT_QUEUE_SETTINGS),
        };
      },
      queues: async (_: unknown, __: unknown, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'list queues');
        const names = new Set(d.cfg.queues.filter((q) => q.tenant === auth.tenant_id).map((q) => q.queue));
        for (const q of d.live.snapshot(auth.tenant_id, d.now()).queues) names.add(q.queue);
        for (const q of await read(auth, ctx.deadline, ['queues'], () => d.history.queues(auth.tenant_id))) names.add(q);
        return [...names].sort().map((queue) => {
          const c = d.cfg.queues.find((q) => q.tenant === auth.tenant_id && q.queue === queue);
          return { queue, name: c?.name ?? queue, settings: settingsOut(queue, queueSettings(d.cfg, auth.tenant_id, queue)), colour: c?.colour ?? null };
        });
      },
      agents: async (_: unknown, __: unknown, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'list agents');
        const live = new Map(d.live.agents(auth.tenant_id, d.now()).map((a) => [a.agent_id, a]));
        const known = await read(auth, ctx.deadline, ['agents'], () => d.history.agents(auth.tenant_id));
        const ids = new Set([...live.keys(), ...known.map((k) => k.agent_id)]);
        return [...ids].sort().map((id) => {
          const a = live.get(id);
          return { agent_id: id, agent_name: a?.agent_name ?? known.find((k) => k.agent_id === id)?.agent_name ?? null, queues: a?.queues ?? [], state: a?.state ?? null };
        });
      },
      extensions: async (_: unknown, __: unknown, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'list extensions');
        return (await read(auth, ctx.deadline, ['extensions'], () => d.history.extensions(auth.tenant_id))).map((extension) => ({ extension }));
      },
      metrics: (_: unknown, args: { period: PeriodArg; groupBy: string; filter?: MetricsFilterArg | null } & HoursArgs, ctx: Ctx, info: GraphQLResolveInfo) => {
        const auth = need(ctx, READERS, 'query metrics');
        const hours = { hours: args.hours ?? null, compare: args.compare ?? null, percentiles: asksFor(info, WAIT_PERCENTILES) };
        return periodRead(auth, ctx.deadline, 'metrics', args.period, [args.groupBy, args.filter ?? {}, hours], () =>
          d.history.metrics(auth.tenant_id, tenantOf(auth), args.period, args.groupBy, args.filter ?? {}, hours),
        );
      },
      intraday: (_: unknown, args: { date?: string | null; interval: string; filter?: MetricsFilterArg | null } & HoursArgs, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'query intraday series');
        const period: PeriodArg = args.date ? { kind: 'DAY', date: args.date } : { kind: 'TODAY' };
        const hours = { hours: args.hours ?? null, compare: args.compare ?? null };
        return periodRead(auth, ctx.deadline, 'intraday', period, [args.interval, args.filter ?? {}, hours], () =>
          d.history.intraday(auth.tenant_id, tenantOf(auth), args.date ?? null, args.interval, args.filter ?? {}, hours),
        );
      },
      live: (_: unknown, args: { filter?: { queues?: string[] | null } | null }, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'read live state');
        return d.live.snapshot(auth.tenant_id, d.now(), args.filter?.queues ?? undefined);
      },
      calls: (_: unknown, args: { filter?: CallFilter | null; first: number; after?: string | null }, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'search calls');
        return read(auth, ctx.deadline, ['calls', args.filter ?? {}, args.first, args.after ?? null], () => searchCalls(d.ch, auth.tenant_id, args.filter ?? {}, args.first, args.after ?? null));
      },
      call: async (_: unknown, args: { id: string }, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'read calls');
        const c = await read(auth, ctx.deadline, ['call', args.id], () => getCall(d.ch, auth.tenant_id, args.id));
        if (!c) throw notFound('call', args.id);
        return { ...c, tenant_id: auth.tenant_id };
      },
      boards: (_: unknown, __: unknown, ctx: Ctx) => d.boards.list(need(ctx, READERS, 'list boards').tenant_id),
      board: (_: unknown, args: { id: string }, ctx: Ctx) => boardFor(ctx.auth, args.id, ctx.deadline),
      reconciliation: reconciliationQuery(coverageDeps),
    },

    Call: {
      // The tenant comes from the caller's token, never from the parent object: calls reached
      // through `calls` search carry no tenant_id of their own.
      queue_legs: (c: { call_id: string }, _: unknown, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'read calls');
        return read(auth, ctx.deadline, ['legs', c.call_id], () => callLegs(d.ch, auth.tenant_id, c.call_id));
      },
      timeline: async (c: { call_id: string }, _: unknown, ctx: Ctx) => {
        const auth = need(ctx, READERS, 'read calls');
        return (await read(auth, ctx.deadline, ['timeline', c.call_id], () => callTimeline(d.ch, auth.tenant_id, c.call_id))).map(eventOut);
      },
    },

    BoardUpdate: {
      intraday: (u: { _auth: Auth; _queues: string[] }, args: { interval: string }) => boardIntraday(u._auth, u._queues, args.interval),
      ...display.boardUpdate,
    },

    Mutation: {
      createBoard: async (_: unknown, args: { input: BoardInput }, ctx: Ctx) => {
        const auth = need(ctx, EDITORS, 'create boards');
        const b = await d.boards.put(auth.tenant_id, newBoardId(), validateBoard(args.input), 1);
        d.pubsub.publish('board', auth.tenant_id, { board_id: b.id });
        return b;
      },
      updateBoard: async (_: unknown, args: { id: string; input: BoardInput; expected_version?: number | null }, ctx: Ctx) => {
        const auth = need(ctx, EDITORS, 'edit boards');
        const def = validateBoard(args.input);
        const cur = await d.boards.get(auth.tenant_id, args.id);
        if (!cur) throw notFound('board', args.id);
        if (args.expected_version != null && args.expected_version !== cur.version) {
          throw new ApiError('CONFLICT', `board ${args.id} is at version ${cur.version}, not ${args.expected_version}: someone else edited it; reload and apply your change again`);
        }
        const b = await d.boards.put(auth.tenant_id, args.id, def, cur.version + 1);
        d.pubsub.publish('board', auth.tenant_id, { board_id: b.id });
        return b;
      },
      deleteBoard: async (_: unknown, args: { id: string }, ctx: Ctx) => {
        const auth = need(ctx, EDITORS, 'delete boards');
        const cur = await d.boards.get(auth.tenant_id, args.id);
        if (!cur) throw notFound('board', args.id);
        await d.boards.put(auth.tenant_id, args.id, cur, cur.version + 1, true);
        d.pubsub.publish('board', auth.tenant_id, { board_id: args.id });
        return true;
      },
      createToken: async (_: unknown, args: { role: string; board_id?: string | null; label?: string | null }, ctx: Ctx) => {
        const auth = need(ctx, ['admin'], 'create tokens');
        const role = lower(args.role) as Role;
        const bad = checkNewToken({ tenant_id: auth.tenant_id, role, board_id: args.board_id ?? null });
        if (bad) throw badInput(bad, 'board_id');
        const badLabel = checkLabel(args.label ?? '');
        if (badLabel) throw badInput(badLabel, 'label');
        if (args.board_id && !(await d.boards.get(auth.tenant_id, args.board_id))) throw notFound('board', args.board_id);
        const t = await createToken(d.ch, { tenant_id: auth.tenant_id, role, board_id: args.board_id ?? null, label: args.label ?? '' });
        return { token: t.token, role: args.role, board_id: args.board_id ?? null };
      },
    },

    Subscription: {
      board: {
        subscribe: async (_: unknown, args: { id: string }, ctx: Ctx) => {
          const auth = ctx.auth;
          let board = await boardFor(auth, args.id);
          let queues = boardQueues(board);
          let gone = false;
          let seq = 0;
          const gap = 1000 / d.settings.boardUpdatesPerSecond;
          return coalesced(
            (dirty) => {
              const offLive = d.pubsub.subscribe('live', auth.tenant_id, (m) => {
                if (!queues.length || !m.queues.length || m.queues.some((q) => queues.includes(q))) dirty();
              });
              const offBoard = d.pubsub.subscribe('board', auth.tenant_id, (m) => {
                if (m.board_id !== board.id) return;
                void d.boards.get(auth.tenant_id, board.id).then((b) => {
                  if (b) {
                    board = b;
                    queues = boardQueues(b);
                  } else gone = true;
                  dirty();
                });
              });
              return () => (offLive(), offBoard());
            },
            () => {
              if (gone) throw notFound('board', board.id);
              const now = d.now();
              const live = liveSnapshot(auth.tenant_id, queues, now);
              const t = tenantOf(auth);
              return { board: { server_time: live.server_time, seq: ++seq, board, live, timezone: t.timezone, locale: t.locale, _auth: auth, _queues: queues } };
            },
            gap,
          );
        },
      },
      callEvents: {
        subscribe: (_: unknown, args: { filter?: { queues?: string[] | null; agents?: string[] | null; types?: string[] | null } | null }, ctx: Ctx) => {
          const auth = need(ctx, READERS, 'subscribe to call events');
          const f = args.filter ?? {};
          const match = (e: CanonicalEvent) => {
            const p = e.payload as Record<string, unknown>;
            if (f.types?.length && !f.types.includes(e.type)) return false;
            if (f.queues?.length && !(typeof p.queue === 'string' && f.queues.includes(p.queue))) return false;
            if (f.agents?.length && !(typeof p.agent_id === 'string' && f.agents.includes(p.agent_id))) return false;
            return true;
          };
          return bounded(
            (push) => d.pubsub.subscribe('callEvent', auth.tenant_id, (e) => match(e) && push({ callEvents: eventOut(e) })),
            d.settings.subscriberBuffer,
            () => dropped('callEvents', ctx.auth),
          );
        },
      },
      agentStates: {
        subscribe: (_: unknown, args: { filter?: { agents?: string[] | null; queues?: string[] | null } | null }, ctx: Ctx) => {
          const auth = need(ctx, READERS, 'subscribe to agent states');
          const f = args.filter ?? {};
          return bounded(
            (push) =>
              d.pubsub.subscribe('agentState', auth.tenant_id, (a) => {
                if (f.agents?.length && !f.agents.includes(a.agent_id)) return;
                if (f.queues?.length && !a.queues.some((q) => f.queues!.includes(q))) return;
                push({ agentStates: a });
              }),
            d.settings.subscriberBuffer,
            () => dropped('agentStates', ctx.auth),
          );
        },
      },
      alerts: {
        subscribe: (_: unknown, args: { board_id?: string | null }, ctx: Ctx) =>
          subscribeAlerts(d.alerts, ctx.auth, args.board_id ?? null, d.settings.subscriberBuffer, () => dropped('alerts', ctx.auth)),
      },
    },
  };
}
