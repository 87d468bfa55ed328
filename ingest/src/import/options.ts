// The options of `callboard import asterisk` and `callboard import yeastar`, in one place: ingest's
// import parses them (command.ts), and cli/import.ts reads the same ones to keep the PBX records
// of the files the import read.
import type { ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON = {
  cdr: { type: 'string' },
  tenant: { type: 'string' },
  pbx: { type: 'string' },
  tz: { type: 'string' },
  stdout: { type: 'boolean' },
} as const satisfies Options;

export const ASTERISK_OPTIONS = { 'queue-log': { type: 'string' }, ...COMMON, until: { type: 'string' } } as const satisfies Options;

export const YEASTAR_OPTIONS = { ...COMMON, series: { type: 'string' }, 'date-order': { type: 'string' } } as const satisfies Options;
