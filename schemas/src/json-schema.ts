// Generates the checked-in JSON Schema files (draft 2020-12) under schemas/json/. A unit test
// fails when they differ from what the TypeScript definitions produce.
import { CanonicalEventSchema, EVENT_SCHEMAS, EVENT_TYPES } from './events.ts';
import { EXAMPLES } from './examples.ts';
import { DlqRecord, RawRecord } from './records.ts';

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

function strip(v: unknown): unknown {
  // TypeBox adds symbol keys (Kind, Optional) that JSON drops anyway; a JSON round trip keeps
  // only the schema.
  return JSON.parse(JSON.stringify(v));
}

export function jsonSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const t of EVENT_TYPES) {
    files[`${t}.json`] = JSON.stringify({ $schema: DIALECT, ...(strip(EVENT_SCHEMAS[t]) as object), examples: [EXAMPLES[t]] }, null, 2) + '\n';
  }
  files['canonical-event.json'] = JSON.stringify({ $schema: DIALECT, ...(strip(CanonicalEventSchema) as object) }, null, 2) + '\n';
  files['raw-record.json'] = JSON.stringify({ $schema: DIALECT, ...(strip(RawRecord) as object) }, null, 2) + '\n';
  files['dlq-record.json'] = JSON.stringify({ $schema: DIALECT, ...(strip(DlqRecord) as object) }, null, 2) + '\n';
  return files;
}
