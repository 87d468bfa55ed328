// Commands contributed by the service folders (each keeps its table in its own src/cli.ts), and
// those that compose services and so live here: `api` (a stack of one API), and the operator's
// `token`, `board` and `rebuild`, which go through the running process's admin endpoint when
// one holds ClickHouse (admin-client.ts).
import type { CommandTable } from '@callboard/platform';
import { commands as ingest } from '@callboard/ingest/cli';
import { commands as historyImport } from '@callboard/ingest/import-cli';
import { commands as projections } from '@callboard/projections/cli';
import { commands as reconcile } from '@callboard/projections/reconcile-cli';
import { commands as schemas } from '@callboard/schemas/cli';
import { commands as simulator } from '@callboard/simulator/cli';

const api: CommandTable = {
  api: {
    summary: 'run the GraphQL API (queries, SSE and WebSocket subscriptions) and serve the built wallboard',
    usage: 'callboard api [--port N]',
    load: () => import('./api.ts'),
  },
  bench: {
    summary: 'list the benchmarks of bench/, or run the named ones (each prints its figures next to its peer of the same run)',
    usage: 'callboard bench [NAME…] [-- options of the benchmark]',
    load: () => import('./bench.ts'),
  },
  token: {
    summary: 'create (printed once, stored as its SHA-256), list or revoke API tokens of a tenant',
    usage: 'callboard token create --tenant ID --role admin|analyst|supervisor|display [--board ID] [--label TEXT] | list --tenant ID | revoke --tenant ID --hash PREFIX',
    load: () => import('./token.ts'),
  },
  board: {
    summary: 'list a tenant\'s boards, export one as JSON, or import one (validated; refused if edited since export unless --force)',
    usage: 'callboard board list --tenant ID | export --tenant ID --board ID [--out FILE] | import --tenant ID [--force] FILE|-',
    load: () => import('./board.ts'),
  },
  // Replaces ingest's own entry: the same import, then the PBX records kept for reconciliation (import.ts).
  import: { ...historyImport.import!, load: () => import('./import.ts') },
  // Replaces projections' own entry: the same rebuild, run by the process holding ClickHouse when one runs.
  rebuild: {
    summary: 'replay the canonical events table into fresh projection tables and swap them in (readers never see an empty table); through the running Callboard when it holds ClickHouse',
    usage: 'callboard rebuild',
    load: () => import('./admin-rebuild.ts'),
  },
};

export const extraCommands: CommandTable = { ...schemas, ...ingest, ...historyImport, ...simulator, ...projections, ...reconcile, ...api };
