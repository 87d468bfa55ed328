// The dimension lists a tenant's data names: queues, agents (with their latest name) and
// extensions, for pickers and for merging with configured and live ones.
import type { ClickHouse } from '@callboard/platform';
import { TenantReader } from './scope.ts';

/** Bounds a list's size, not a business rule. */
const MAX_DIMENSION = 10_000;

export async function listQueues(ch: ClickHouse, tenant: string): Promise<string[]> {
  const r = new TenantReader(ch, tenant);
  return (await r.rows<{ queue: string }>(`SELECT DISTINCT queue FROM ${r.from('queue_15m', false)} ORDER BY queue LIMIT {max:UInt32}`, { max: MAX_DIMENSION })).map((x) => x.queue);
}

export async function listAgents(ch: ClickHouse, tenant: string): Promise<{ agent_id: string; agent_name: string | null }[]> {
  const r = new TenantReader(ch, tenant);
  const rows = await r.rows<{ agent_id: string; agent_name: string }>(
    `SELECT agent_id, argMax(agent_name, started_at) AS agent_name FROM ${r.from('agent_intervals', false)} GROUP BY agent_id ORDER BY agent_id LIMIT {max:UInt32}`,
    { max: MAX_DIMENSION },
  );
  return rows.map((x) => ({ agent_id: x.agent_id, agent_name: x.agent_name || null }));
}

export async function listExtensions(ch: ClickHouse, tenant: string): Promise<string[]> {
  const r = new TenantReader(ch, tenant);
  return (await r.rows<{ extension: string }>(`SELECT DISTINCT extension FROM ${r.from('calls', false)} AND extension != '' ORDER BY extension LIMIT {max:UInt32}`, { max: MAX_DIMENSION })).map((x) => x.extension);
}
