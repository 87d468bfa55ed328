// Commands of the history import (docs/import.md). Implementations load lazily.
import type { CommandTable } from '@callboard/platform';

export const commands: CommandTable = {
  import: {
    summary: "import a PBX's history (Asterisk queue_log, Master.csv) into cc.events.v1: same contract, ids and projections as live events",
    usage: 'callboard import asterisk --queue-log FILE|- [--cdr Master.csv] --tenant ID --pbx ID [--cdr-tz ZONE] [--until ISO] [--stdout]',
    load: () => import('./command.ts'),
  },
};
