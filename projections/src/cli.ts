// Commands this folder contributes to `callboard` (see cli/main.ts). Implementations load lazily.
import type { CommandTable } from '@callboard/platform';

export const commands: CommandTable = {
  projections: {
    summary: 'run the projections service: pbx.raw.v1 and cc.events.v1 into ClickHouse, folded into calls, queue legs, agent intervals and 15-minute rollups',
    usage: 'callboard projections [--ops-port N]',
    load: () => import('./service.ts'),
  },
  report: {
    summary: 'queue, agent and call metrics for a local day, week or month from a canonical NDJSON file (temporary embedded ClickHouse)',
    usage:
      'callboard report --events FILE --tenant ID --tz ZONE [--week-start monday|sunday] --period day|week|month --date YYYY-MM-DD [--group-by none|queue|agent] [--sl-threshold S] [--short-abandon S] [--sl-formula NAME] [--wrap-up S] [--hours open|closed|all] [--config FILE]',
    load: () => import('./report.ts'),
  },
};
