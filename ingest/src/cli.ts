// Commands this folder contributes to `callboard` (see cli/main.ts). Implementations load lazily.
import type { CommandTable } from '@callboard/platform';

export const commands: CommandTable = {
  ingest: {
    summary: 'run the ingest service: one adapter per configured PBX, raw and canonical events to Kafka',
    usage: 'callboard ingest   (PBXes from CALLBOARD_CONFIG; ops server on INGEST_OPS_PORT, default 9464)',
    load: () => import('./commands.ts').then((m) => ({ run: m.ingest })),
  },
  translate: {
    summary: 'translate a raw PBX capture file into canonical events (NDJSON on stdout, problems on stderr)',
    usage: 'callboard translate --source ami|yeastar-p|yeastar-s [--tenant ID] [--pbx ID] [--start ISO] [--tz ZONE] FILE',
    load: () => import('./commands.ts').then((m) => ({ run: m.translate })),
  },
  retranslate: {
    summary: 're-read pbx.raw.v1 over a time span and emit the canonical events again (idempotent by event id)',
    usage: 'callboard retranslate --from ISO --to ISO [--tenant ID] [--pbx ID] [--stdout]',
    load: () => import('./commands.ts').then((m) => ({ run: m.retranslate })),
  },
};
