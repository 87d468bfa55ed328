// The reconciliation command (docs/import.md "Reconciliation"). Loaded lazily.
import type { CommandTable } from '@callboard/platform';

export const commands: CommandTable = {
  reconcile: {
    summary:
      "compare Callboard's queue and agent figures with the PBX's own queue_log or Yeastar CDR export, class every difference, exit 1 on one of unknown cause",
    usage:
      'callboard reconcile --queue-log FILE|- [--cdr Master.csv] --tenant ID [--pbx ID] --period day|week|month --date YYYY-MM-DD [--tz ZONE] [--json]\n' +
      '       callboard reconcile --yeastar-cdr FILE|- --tenant ID --period day|week|month --date YYYY-MM-DD [--tz ZONE] [--date-order mdy|dmy] [--json]',
    load: () => import('./command.ts'),
  },
};
