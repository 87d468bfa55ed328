// The checked-in JSON Schema files are generated; this fails when someone changes events.ts
// (or records.ts) and forgets `npm run gen:schemas`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemaFiles } from '../src/json-schema.ts';
import { EVENT_TYPES } from '../src/events.ts';
import { EXAMPLES } from '../src/examples.ts';
import { validateEvent } from '../src/validate.ts';

const dir = join(import.meta.dirname, '..', 'json');
const fix = 'run `npm run gen:schemas` and commit schemas/json/ with the change';

describe('schemas/json/ is up to date with the TypeScript definitions', () => {
  const expected = jsonSchemaFiles();

  it('has exactly the generated files', () => {
    expect(existsSync(dir), `schemas/json/ is missing: ${fix}`).toBe(true);
    expect(readdirSync(dir).sort(), fix).toEqual(Object.keys(expected).sort());
  });

  for (const [name, text] of Object.entries(expected)) {
    it(`${name} matches its definition`, () => {
      const onDisk = existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '(missing)';
      expect(onDisk === text, `schemas/json/${name} is out of date: ${fix}`).toBe(true);
    });
  }

  it('declares draft 2020-12, one schema per event type, with a valid example each', () => {
    for (const t of EVENT_TYPES) {
      const s = JSON.parse(expected[`${t}.json`]!) as { $schema: string; $id: string; examples: unknown[] };
      expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(s.$id).toBe(`https://callboard.dev/schemas/v1/${t}.json`);
      expect(s.examples).toEqual([EXAMPLES[t]]);
      expect(validateEvent(s.examples[0]).ok).toBe(true);
    }
  });
});
