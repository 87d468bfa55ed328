// What each number on the board counts, in the words of METRICS.md (the contract). Tiles show
// the METRICS.md name and this definition in their legend/tooltip, so a supervisor can check
// what "service level" means on this board without asking anyone.

export type Format = 'ratio' | 'seconds' | 'count';

export interface MetricDoc {
  /** METRICS.md name. */
  name: string;
  /** Short label for a TV tile. */
  label: string;
  definition: string;
  format: Format;
  /** Which side is bad, for thresholds without an explicit direction. */
  bad: 'below' | 'above';
}

export const METRIC_DOCS: Record<string, MetricDoc> = {
  service_level: {
    name: 'service_level',
    label: 'Service level',
    definition: 'answered_within_sl / (offered − short_abandoned − waiting): queue legs answered within the threshold T (default 20 s), over legs offered in the period, short abandons and still-waiting legs excluded. Formula per queue setting sl_formula.',
    format: 'ratio',
    bad: 'below',
  },
  asa: { name: 'asa', label: 'ASA', definition: 'Average speed of answer: mean wait of answered queue legs.', format: 'seconds', bad: 'above' },
  abandon_rate: {
    name: 'abandon_rate',
    label: 'Abandon rate',
    definition: '(abandoned − short_abandoned) / (offered − short_abandoned − waiting): callers who hung up while waiting, short abandons (< short_abandon_s, default 5 s) excluded.',
    format: 'ratio',
    bad: 'above',
  },
  answered: { name: 'answered', label: 'Answered', definition: 'Queue legs connected to an agent, over legs offered in the period.', format: 'count', bad: 'below' },
  offered: { name: 'offered', label: 'Offered', definition: 'Queue legs that entered a queue in the period (one call entering two queues is two legs).', format: 'count', bad: 'above' },
  abandoned: { name: 'abandoned', label: 'Abandoned', definition: 'Queue legs where the caller hung up while waiting.', format: 'count', bad: 'above' },
  short_abandoned: { name: 'short_abandoned', label: 'Short abandons', definition: 'Abandoned legs with wait < short_abandon_s.', format: 'count', bad: 'above' },
  exited: { name: 'exited', label: 'Exited', definition: 'Legs that left unanswered otherwise: timeout, key press, empty or full queue.', format: 'count', bad: 'above' },
  waiting: { name: 'waiting', label: 'Waiting now', definition: 'Queue legs still waiting (live).', format: 'count', bad: 'above' },
  max_wait: { name: 'max_wait', label: 'Longest wait now', definition: 'max_wait, live: the longest current wait of a leg still in a queue.', format: 'seconds', bad: 'above' },
  avg_abandon_wait: { name: 'avg_abandon_wait', label: 'Avg abandon wait', definition: 'Mean wait of abandoned legs.', format: 'seconds', bad: 'below' },
  aht: { name: 'aht', label: 'AHT', definition: '(talk_time + hold_time + wrap_time) / answered.', format: 'seconds', bad: 'above' },
  wait_p90: { name: 'wait_p90', label: 'Wait p90', definition: '90th percentile of the wait of answered legs.', format: 'seconds', bad: 'above' },
  transferred: { name: 'transferred', label: 'Transferred', definition: 'Answered legs that ended in a blind or attended transfer.', format: 'count', bad: 'above' },
  agents_available: { name: 'agents_available', label: 'Available', definition: 'Agents now in state available (METRICS.md agent states).', format: 'count', bad: 'below' },
  agents_on_call: { name: 'agents_on_call', label: 'On call', definition: 'Agents now in state on_call or on_hold.', format: 'count', bad: 'above' },
  agents_paused: { name: 'agents_paused', label: 'Paused', definition: 'Agents now in state paused (any reason).', format: 'count', bad: 'above' },
  agents_wrap_up: { name: 'agents_wrap_up', label: 'Wrap-up', definition: 'Agents now in state wrap_up (after-call work).', format: 'count', bad: 'above' },
};

export function metricDoc(name: string): MetricDoc {
  return METRIC_DOCS[name] ?? { name, label: name.replace(/_/g, ' '), definition: `${name} (see METRICS.md)`, format: 'count', bad: 'above' };
}

export const AGENT_STATE_LABEL: Record<string, string> = {
  available: 'Available',
  ringing: 'Ringing',
  on_call: 'On call',
  on_hold: 'On hold',
  wrap_up: 'Wrap-up',
  paused: 'Paused',
  offline: 'Offline',
};
