// The metrics query skips the wait sketch when no wait percentile is asked for (api/src/selection.ts):
// the read must see a percentile asked however the query spells it.
import { Kind, parse, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { asksFor, WAIT_PERCENTILES } from '../src/selection.ts';

/** The `metrics` field of a query document, with its fragments, as a resolver's info carries them. */
function infoOf(query: string) {
  const doc = parse(query);
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const field = op.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'metrics')!;
  const fragments = Object.fromEntries(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  return { fieldNodes: [field], fragments };
}

describe('asksFor: wait percentiles in a metrics query', () => {
  it('sees none when only counts and ratios are asked', () => {
    expect(asksFor(infoOf('{ metrics(period: {kind: MONTH}, groupBy: AGENT) { rows { key queue_metrics { offered asa service_level } } } }'), WAIT_PERCENTILES)).toBe(false);
  });

  it.each([
    ['a field', '{ metrics(period: {kind: MONTH}, groupBy: QUEUE) { rows { queue_metrics { offered wait_p90 } } } }'],
    ['an alias', '{ metrics(period: {kind: MONTH}, groupBy: QUEUE) { rows { queue_metrics { p: wait_p50 } } } }'],
    ['an inline fragment', '{ metrics(period: {kind: MONTH}, groupBy: QUEUE) { rows { queue_metrics { ... on QueueMetrics { wait_p99 } } } } }'],
    ['a fragment spread, nested', '{ metrics(period: {kind: MONTH}, groupBy: QUEUE) { ...R } } fragment R on MetricsResult { rows { queue_metrics { ...W } } } fragment W on QueueMetrics { wait_p50 }'],
  ])('sees one asked through %s', (_, q) => {
    expect(asksFor(infoOf(q), WAIT_PERCENTILES)).toBe(true);
  });

  it('counts a fragment it cannot find as asking (the read then keeps everything)', () => {
    const info = infoOf('{ metrics(period: {kind: MONTH}, groupBy: QUEUE) { ...Missing } }');
    expect(asksFor(info, WAIT_PERCENTILES)).toBe(true);
  });

  it('does not loop on a fragment spread twice', () => {
    expect(asksFor(infoOf('{ metrics(period: {kind: MONTH}, groupBy: QUEUE) { ...R ...R } } fragment R on MetricsResult { rows { key } }'), WAIT_PERCENTILES)).toBe(false);
  });
});
