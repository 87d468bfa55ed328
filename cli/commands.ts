// Commands contributed by the service folders; each keeps its table in its own src/cli.ts.
import { commands as api } from '../api/src/cli.ts';
import { commands as ingest } from '../ingest/src/cli.ts';
import { commands as historyImport } from '../ingest/src/import/cli.ts';
import { commands as projections } from '../projections/src/cli.ts';
import { commands as reconcile } from '../projections/src/reconcile/cli.ts';
import { commands as schemas } from '../schemas/src/cli.ts';
import { commands as simulator } from '../simulator/src/cli.ts';
import type { CommandTable } from '@callboard/platform';

export const extraCommands: CommandTable = { ...schemas, ...ingest, ...historyImport, ...simulator, ...projections, ...reconcile, ...api };
