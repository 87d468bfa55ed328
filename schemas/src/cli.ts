// Commands this folder contributes to `callboard` (see cli/main.ts). Implementations load lazily.
import type { CommandTable } from '@callboard/platform';

export const commands: CommandTable = {
  validate: {
    summary: 'check NDJSON canonical events against the contract; prints each error with line and JSON path, exit 1 if any is invalid',
    usage: 'callboard validate FILE   (NDJSON, one canonical event per line; "-" reads stdin)',
    load: () => import('./validate-command.ts'),
  },
};
