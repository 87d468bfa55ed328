// The shape of a `callboard` command. It lives here, below every folder, so each folder's
// src/cli.ts can contribute its commands without importing from the root cli/ above it.
export interface Command {
  summary: string;
  usage: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number | void> }>;
}
export type CommandTable = Record<string, Command>;
