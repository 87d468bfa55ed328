// Commands this folder contributes to `callboard` (see cli/main.ts). Implementations load lazily.
import type { CommandTable } from '@callboard/platform';

export const commands: CommandTable = {
  simulate: {
    summary: 'simulated call centre: a seeded day served over AMI on 127.0.0.1, with its ground-truth ledger',
    usage: 'callboard simulate [--seed N] [--speed X|max] [--date YYYY-MM-DD] [--tenant ID] [--pbx ID] [--timezone ZONE] [--volume V] [--port N] [--ledger FILE] [--ami-out FILE] [--ringall] [--restart-at HH:MM] [--crash-at HH:MM]',
    load: () => import('./command.ts'),
  },
};
