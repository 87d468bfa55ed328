// Commands this folder contributes to `callboard` (see cli/main.ts). Implementations load lazily.
import type { CommandTable } from '../../cli/types.ts';

export const commands: CommandTable = {};
