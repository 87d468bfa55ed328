// Commands this folder contributes to `callboard` (see cli/main.ts). Implementations load lazily.
import type { CommandTable } from '../../cli/types.ts';

export const commands: CommandTable = {
  api: {
    summary: 'run the GraphQL API (queries, SSE and WebSocket subscriptions) and serve the built wallboard',
    usage: 'callboard api [--port N]',
    load: () => import('./cli-api.ts'),
  },
  token: {
    summary: 'create an API token for one tenant and role; it is printed once and stored only as its SHA-256',
    usage: 'callboard token create --tenant ID --role admin|analyst|supervisor|display [--board ID] [--label TEXT]',
    load: () => import('./cli-token.ts'),
  },
};
