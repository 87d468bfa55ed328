// Ready-made scenarios: a small call centre with two queues (sales overflowing into support),
// day and night shifts so that calls and agent states cross local midnight, and the behaviour
// mix the issue asks for. Pure: the caller supplies the window, the zone and the seed.
import { DateTime } from 'luxon';
import type { AgentSpec, Behaviour, QueueSpec, Scenario } from './model.ts';

export const DEFAULT_BEHAVIOUR: Behaviour = {
  patience_mean_s: 90,
  talk_mean_s: 170,
  talk_cv: 0.8,
  ring_delay_min_s: 2,
  ring_delay_max_s: 9,
  no_answer_p: 0.06,
  hold_p: 0.15,
  hold_mean_s: 35,
  blind_transfer_p: 0.04,
  attended_transfer_p: 0.02,
  consult_mean_s: 25,
  caller_hangs_up_p: 0.35,
  outbound_per_agent_hour: 0.6,
  outbound_answer_p: 0.65,
  outbound_busy_p: 0.1,
  breaks: [
    { after_h: 2, minutes: 15, reason: 'Break' },
    { after_h: 4, minutes: 30, reason: 'Lunch' },
    { after_h: 6.5, minutes: 15, reason: 'Break' },
  ],
  extra_pause_p: 0.3,
  extra_pause_reasons: ['Training', 'Coaching', 'Admin'],
};

/** Busy days, quiet nights; never zero so some calls cross local midnight. */
export const CALL_CENTRE_PROFILE = [2, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 14, 12, 13, 15, 14, 12, 10, 8, 6, 5, 4, 3, 2];

export interface ScenarioOptions {
  tenant: string;
  pbx: string;
  timezone: string;
  seed: number;
  from_ms: number;
  to_ms: number;
  /** Multiplies every queue's daily volume (1 = about 600 first legs a day). */
  volume?: number;
  /** Extension numbers of the agents start here (1001, 1002, …). */
  first_extension?: number;
  number_prefix?: string;
  logout_at_end?: boolean;
}

export function callCentreScenario(o: ScenarioOptions): Scenario {
  const v = o.volume ?? 1;
  const queues: QueueSpec[] = [
    { queue: 'sales', wrap_up_s: 10, ring_timeout_s: 15, retry_s: 5, max_wait_s: 120, overflow_to: 'support', calls_per_day: 360 * v },
    { queue: 'support', wrap_up_s: 0, ring_timeout_s: 15, retry_s: 5, max_wait_s: 600, overflow_to: null, calls_per_day: 240 * v },
  ];
  const ext = o.first_extension ?? 1001;
  const mk = (i: number, queues: string[], shift_start: string, shift_hours: number): AgentSpec => ({
    agent: String(ext + i),
    name: `Agent ${ext + i}`,
    queues,
    shift_start,
    shift_hours,
  });
  const agents: AgentSpec[] = [
    mk(0, ['sales'], '07:00', 9),
    mk(1, ['sales'], '08:00', 9),
    mk(2, ['sales', 'support'], '09:00', 9),
    mk(3, ['sales'], '12:00', 9),
    mk(4, ['support'], '07:30', 9),
    mk(5, ['support'], '10:00', 9),
    mk(6, ['support', 'sales'], '13:00', 9),
    // The night shift keeps the lines open across local midnight.
    mk(7, ['sales', 'support'], '21:00', 10),
  ];
  return {
    tenant: o.tenant,
    pbx: o.pbx,
    timezone: o.timezone,
    seed: o.seed,
    from_ms: o.from_ms,
    to_ms: o.to_ms,
    hour_profile: CALL_CENTRE_PROFILE,
    transfer_queue: 'support',
    queues,
    agents,
    behaviour: DEFAULT_BEHAVIOUR,
    number_prefix: o.number_prefix ?? '07',
    logout_at_end: o.logout_at_end ?? false,
  };
}

/** [start of local day `date` − before_h, start of the next local day + after_h) in UTC ms. */
export function dayWindow(date: string, timezone: string, before_h = 2, after_h = 2): { from_ms: number; to_ms: number } {
  const d = DateTime.fromISO(date, { zone: timezone });
  if (!d.isValid) throw new Error(`simulator: --date ${date} is not a date in ${timezone} (${d.invalidExplanation ?? d.invalidReason})`);
  return { from_ms: d.startOf('day').minus({ hours: before_h }).toMillis(), to_ms: d.startOf('day').plus({ days: 1, hours: after_h }).toMillis() };
}
