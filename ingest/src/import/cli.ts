// Commands of the history import (docs/import.md). Implementations load lazily.
import type { CommandTable } from '@callboard/platform';

export { ASTERISK_OPTIONS, YEASTAR_OPTIONS } from './options.ts';

export const commands: CommandTable = {
  import: {
    summary:
      "import a PBX's history (Asterisk queue_log, Master.csv; Yeastar CDR exports) into cc.events.v1: same contract, ids and projections as live events",
    usage:
      'callboard import asterisk --queue-log FILE|- [--cdr Master.csv] --tenant ID --pbx ID [--tz ZONE] [--until ISO] [--stdout]\n' +
      '       callboard import yeastar --cdr FILE|- --tenant ID --pbx ID [--tz ZONE] [--series p|s] [--date-order mdy|dmy] [--stdout]',
    load: () => import('./command.ts'),
  },
  replay: {
    summary:
      'play a recorded AMI capture through the live adapter, or a Yeastar capture through the live Yeastar pipeline, then Kafka and the projections, at the recorded pace divided by --speed, or as fast as it goes',
    usage:
      'callboard replay --source ami CAPTURE --tenant ID --pbx ID [--speed N|max]\n' +
      '       callboard replay --source yeastar [--series p|s] CAPTURE --tenant ID --pbx ID [--tz ZONE] [--speed N|max]',
    load: () => import('./command.ts').then((m) => ({ run: m.replay })),
  },
};
