// Helper of import-records.ts, run as its own process under /usr/bin/time: the PBX-records step
// of `callboard import asterisk` (storePbxFiles) into a fresh embedded ClickHouse.
//   node --import tsx bench/import-records-command.ts QUEUE_LOG
import { createClickHouse, loadConfig } from '@callboard/platform';
import { migrateProjections } from '@callboard/projections/migrations-dir';
import { storePbxFiles } from '@callboard/projections/reconcile';

const ch = await createClickHouse(loadConfig());
try {
  await migrateProjections(ch);
  const t = performance.now();
  const r = await storePbxFiles(ch, { tenant_id: 'bench', pbx_id: 'pbx1', source: 'queue_log' }, { queueLog: process.argv[2]! });
  console.log(`stored ${r.legs} queue legs in ${((performance.now() - t) / 1000).toFixed(1)} s`);
} finally {
  await ch.close();
}
