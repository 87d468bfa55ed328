// Commands this folder contributes to `callboard` (see cli/main.ts). Implementations load lazily.
import type { CommandTable } from '@callboard/platform';

export const commands: CommandTable = {
  api: {
    summary: 'run the GraphQL API (queries, SSE and WebSocket subscriptions) and serve the built wallboard',
    usage: 'callboard api [--port N]',
    load: () => import('./cli-api.ts'),
  },
  token: {
    summary: 'create (printed once, stored as its SHA-256), list or revoke API tokens of a tenant',
    usage: 'callboard token create --tenant ID --role admin|analyst|supervisor|display [--board ID] [--label TEXT] | list --tenant ID | revoke --tenant ID --hash PREFIX',
    load: () => import('./cli-token.ts'),
  },
};
