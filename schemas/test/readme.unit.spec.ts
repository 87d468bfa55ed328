// schemas/README.md documents every type and field by hand; this keeps it from falling behind
// events.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_DEFS, EVENT_TYPES, EVENT_SCHEMAS } from '../src/events.ts';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

/** The README section of one type: from its `### ` heading to the next. */
function section(type: string): string {
  const heading = (s: string) => s.slice(0, s.indexOf('\n'));
  return (
    readme
      .split('\n### ')
      .slice(1)
      .find((s) => heading(s).includes(`\`${type}\``)) ?? ''
  );
}

describe('schemas/README.md', () => {
  it('documents every envelope field', () => {
    for (const t of EVENT_TYPES) {
      for (const f of Object.keys(EVENT_SCHEMAS[t].properties)) if (f !== 'payload') expect(readme, f).toContain(`| \`${f}\``);
    }
  });

  for (const t of EVENT_TYPES) {
    it(`documents ${t} and every one of its payload fields`, () => {
      const s = section(t);
      expect(s, `no "### \`${t}\`" section`).not.toBe('');
      const props = (EVENT_DEFS[t].payload as unknown as { properties: Record<string, unknown> }).properties;
      for (const f of Object.keys(props)) expect(s, `${t}.${f}`).toMatch(new RegExp(`\\| [^|]*\`${f}\``));
    });
  }
});
