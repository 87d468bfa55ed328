// ReconciliationRow.metric names every metric a reconciliation can emit, against queue_log and
// against a Yeastar CDR export: the list is the reconcile code's own (RECONCILIATION_METRICS, the
// only names FigureRow.metric admits), so a metric added there fails here until the schema says it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RECONCILIATION_METRICS } from '@callboard/projections/reconcile';
import { graphql } from '../src/graphql.ts';
import { SCHEMA_PATH } from '../src/server.ts';

const schema = graphql.buildSchema(readFileSync(SCHEMA_PATH, 'utf8'));
const row = schema.getType('ReconciliationRow') as InstanceType<typeof graphql.GraphQLObjectType>;
const described = row.getFields().metric?.description ?? '';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Named as a whole word: `talk` in "talk (…", not in "talk_time". */
const names = (text: string, name: string) => new RegExp(`(^|[\\s,(:;])${escape(name)}(?=[\\s,).;:]|$)`).test(text);

describe('ReconciliationRow.metric', () => {
  const all = Object.entries(RECONCILIATION_METRICS).flatMap(([source, scopes]) =>
    Object.entries(scopes as Record<string, readonly string[]>).flatMap(([scope, metrics]) => metrics.map((m): [string, string, string] => [source, scope, m])),
  );

  it('the reconcile code has metrics of both sources', () => {
    expect(all.map(([, , m]) => m)).toEqual(expect.arrayContaining(['offered', 'pause_time[<reason>]', 'unanswered', 'handled_direct']));
  });

  it.each(all)('%s %s metric %s is named in the schema', (_source, _scope, metric) => {
    expect(names(described, metric), described).toBe(true);
  });

  it('names no metric the code does not emit', () => {
    expect(names(described, 'pause_time_by_reason[<reason>]')).toBe(false);
  });
});
