// One realistic example per event type: used by the README, the generated JSON Schema files'
// `examples`, and the property tests as a seed.
import type { CanonicalEvent, EventType } from './events.ts';
import { makeEvent, type EventContext } from './build.ts';

const ctx = (n: number, at: string): EventContext => ({
  tenant_id: 'acme',
  pbx_id: 'pbx-nbo-1',
  source: 'ami',
  occurred_at: at,
  received_at: at.replace(/\.(\d{3})Z$/, (_, ms: string) => `.${String(Math.min(999, Number(ms) + 12)).padStart(3, '0')}Z`),
  raw_ref: { topic: 'pbx.raw.v1', partition: 2, offset: String(1000 + n), connection: 'pbx-nbo-1#3', seq: 40 + n },
  vendor_key: `1795306506.10|example|${n}`,
});
const call = { call_id: '1795306506.10' };
const agent = { agent_id: '1001' };

export const EXAMPLES: { [T in EventType]: CanonicalEvent } = {
  'call.started': makeEvent('call.started', ctx(1, '2025-10-01T21:30:00.120Z'), call, { direction: 'inbound', caller_number: '+254700000001', called_number: '0800723000', trunk: 'safaricom-1' }),
  'call.caller_identified': makeEvent('call.caller_identified', ctx(17, '2025-10-01T21:30:00.160Z'), call, { caller_number: '+254700000001', caller_name: 'J. Mwangi' }),
  'call.queued': makeEvent('call.queued', ctx(2, '2025-10-01T21:30:04.500Z'), call, { queue: 'sales', leg_id: '1795306506.10:sales:1', position: 1, caller_number: '+254700000001' }),
  'call.ringing': makeEvent('call.ringing', ctx(3, '2025-10-01T21:30:04.510Z'), call, { agent_id: '1001', agent_name: 'Amina W.', queue: 'sales', leg_id: '1795306506.10:sales:1' }),
  'call.ring_no_answer': makeEvent('call.ring_no_answer', ctx(4, '2025-10-01T21:30:19.510Z'), call, { agent_id: '1001', queue: 'sales', leg_id: '1795306506.10:sales:1', ring_ms: 15000 }),
  'call.answered': makeEvent('call.answered', ctx(5, '2025-10-01T21:30:22.900Z'), call, { agent_id: '1002', agent_name: 'Brian O.', queue: 'sales', leg_id: '1795306506.10:sales:1', wait_ms: 18400, ring_ms: 3000 }),
  'call.held': makeEvent('call.held', ctx(6, '2025-10-01T21:31:10.000Z'), call, { agent_id: '1002', leg_id: '1795306506.10:sales:1' }),
  'call.resumed': makeEvent('call.resumed', ctx(7, '2025-10-01T21:31:40.000Z'), call, { agent_id: '1002', leg_id: '1795306506.10:sales:1' }),
  'call.transferred': makeEvent('call.transferred', ctx(8, '2025-10-01T21:33:00.000Z'), call, { kind: 'blind', from_agent_id: '1002', to: 'support', queue: 'sales', leg_id: '1795306506.10:sales:1' }),
  'call.agent_completed': makeEvent('call.agent_completed', ctx(9, '2025-10-01T21:33:00.010Z'), call, { agent_id: '1002', queue: 'sales', leg_id: '1795306506.10:sales:1', reason: 'transfer', talk_ms: 157100, hold_ms: 30000 }),
  'call.abandoned': makeEvent('call.abandoned', ctx(10, '2025-10-01T21:40:09.000Z'), { call_id: '1795307100.44' }, { queue: 'support', leg_id: '1795307100.44:support:1', wait_ms: 41000, position: 2, original_position: 3 }),
  'call.left_queue': makeEvent('call.left_queue', ctx(11, '2025-10-01T21:45:30.000Z'), { call_id: '1795307400.51' }, { queue: 'support', leg_id: '1795307400.51:support:1', reason: 'timeout', wait_ms: 300000, position: 1 }),
  'call.ended': makeEvent('call.ended', ctx(12, '2025-10-01T21:38:12.000Z'), call, { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', hangup_cause: 16, hangup_cause_text: 'Normal Clearing', duration_ms: 491880, billsec_ms: 469100, direction: 'inbound' }),
  'agent.queue_joined': makeEvent('agent.queue_joined', ctx(13, '2025-10-01T05:58:00.000Z'), agent, { queue: 'sales', agent_name: 'Amina W.', interface: 'PJSIP/1001', penalty: 0 }),
  'agent.queue_left': makeEvent('agent.queue_left', ctx(14, '2025-10-01T14:02:00.000Z'), agent, { queue: 'sales', agent_name: 'Amina W.' }),
  'agent.state_changed': makeEvent('agent.state_changed', ctx(15, '2025-10-01T10:15:00.000Z'), agent, { state: 'paused', reason: 'Lunch', agent_name: 'Amina W.', pause_reason: 'Lunch' }),
  'source.gap': makeEvent('source.gap', ctx(16, '2025-10-01T11:00:07.250Z'), {}, { from: '2025-10-01T10:58:41.003Z', to: '2025-10-01T11:00:07.250Z', reason: 'socket closed by peer (ECONNRESET)' }),
};
