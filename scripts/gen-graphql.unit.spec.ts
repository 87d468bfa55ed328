// wallboard/src/lib/gql-types.ts is generated; this fails when someone changes api/schema.graphql
// or an operation in wallboard/src/lib/queries.ts and forgets `npm run gen:graphql`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GQL_TYPES_PATH, graphqlTypesFile, SCHEMA_PATH } from './gen-graphql-types.ts';

const fix = 'run `npm run gen:graphql` and commit wallboard/src/lib/gql-types.ts with the change';

describe('the wallboard GraphQL types', () => {
  it('are up to date with api/schema.graphql and the wallboard operations', async () => {
    const expected = await graphqlTypesFile();
    expect(readFileSync(GQL_TYPES_PATH, 'utf8') === expected, `wallboard/src/lib/gql-types.ts is out of date: ${fix}`).toBe(true);
  });

  it('follow a change of the schema', async () => {
    const sdl = readFileSync(SCHEMA_PATH, 'utf8');
    const withSaturday = sdl.replace(/enum WeekStart \{\s*MONDAY\s*SUNDAY\s*\}/, 'enum WeekStart {\n  MONDAY\n  SATURDAY\n  SUNDAY\n}');
    expect(withSaturday).not.toBe(sdl);
    expect(await graphqlTypesFile(withSaturday)).toContain("export type WeekStart = 'MONDAY' | 'SATURDAY' | 'SUNDAY';");
  });

  it('reject an operation that selects a field the schema does not have', async () => {
    const sdl = readFileSync(SCHEMA_PATH, 'utf8');
    const withoutWeekStart = sdl.replace(/^\s*week_start: WeekStart!\s*$/m, '');
    expect(withoutWeekStart).not.toBe(sdl);
    await expect(graphqlTypesFile(withoutWeekStart)).rejects.toThrow(/week_start/);
  });
});
