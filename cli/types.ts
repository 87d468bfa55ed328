export interface Command {
  summary: string;
  usage: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number | void> }>;
}
export type CommandTable = Record<string, Command>;
