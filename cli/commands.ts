// Commands contributed by the service folders. Each folder adds its line here and keeps the
// implementation next to its own code.
type Register = (name: string, cmd: { summary: string; usage: string; load: () => Promise<{ run: (argv: string[]) => Promise<number | void> }> }) => void;

export function registerExtraCommands(register: Register): void {
  void register;
}
