// What a GraphQL request may cost, decided before anything runs. A field costs 1 (aliases and
// `__typename` included: 500k `__typename` aliases are 500k fields to resolve and serialise); a
// metrics field costs what it makes the engine read, estimated as rows: the period's days × the
// groups asked for (or the ids in the filter) / 10. Lists are charged by their page size.
import type { ArgumentNode, DocumentNode, FieldNode, FragmentDefinitionNode, OperationDefinitionNode, SelectionSetNode, ValueNode } from 'graphql';
import { graphql } from './graphql.ts';
import { badInput } from './errors.ts';

const { Kind, valueFromASTUntyped } = graphql;

/** Ids a filter list may hold: a filter of 100k agent ids is larger than the engine accepts a query. */
export const MAX_LIST_ITEMS = 500;
/** Characters of one string inside a list argument (ids, names, numbers). */
export const MAX_LIST_STRING = 200;
/** Characters of any other string argument. */
export const MAX_STRING = 10_000;

/** Estimated rows of one metrics field: its days × groups; one cost unit per this many rows. */
const ROWS_PER_UNIT = 10;
/** Groups assumed when the filter does not name them (a large call centre's queues, agents, extensions). */
const GROUPS: Record<string, number> = { TENANT: 1, DAY: 1, QUEUE: 20, AGENT: 50, EXTENSION: 50 };
const DAYS: Record<string, number> = { TODAY: 1, YESTERDAY: 1, DAY: 1, THIS_WEEK: 7, LAST_WEEK: 7, WEEK: 7, THIS_MONTH: 31, LAST_MONTH: 31, MONTH: 31 };
const INTRADAY_POINTS: Record<string, number> = { MIN_15: 100, MIN_30: 50, MIN_60: 25 };

export interface Measure {
  depth: number;
  cost: number;
}

type Vars = Record<string, unknown>;
type Args = Record<string, unknown>;

function argsOf(field: FieldNode, vars: Vars): Args {
  const out: Args = {};
  for (const a of field.arguments ?? []) out[a.name.value] = valueOf(a.value, vars);
  return out;
}

function valueOf(v: ValueNode, vars: Vars): unknown {
  try {
    return valueFromASTUntyped(v, vars);
  } catch {
    return undefined;
  }
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/** Local days of a PeriodInput; what cannot be read costs as one day (the resolver refuses it). */
export function periodDays(period: unknown): number {
  const p = obj(period);
  const kind = typeof p.kind === 'string' ? p.kind : '';
  if (kind === 'RANGE' && typeof p.from === 'string' && typeof p.to === 'string') {
    const days = (Date.parse(p.to) - Date.parse(p.from)) / 86_400_000 + 1;
    return Number.isFinite(days) && days >= 1 ? Math.ceil(days) : 1;
  }
  return DAYS[kind] ?? 1;
}

/** Estimated rows the engine reads for one `metrics` field. */
export function metricsRows(args: Args): number {
  const groupBy = typeof args.groupBy === 'string' ? args.groupBy : 'TENANT';
  const filter = obj(args.filter);
  const named = groupBy === 'QUEUE' ? count(filter.queues) : groupBy === 'AGENT' ? count(filter.agents) : groupBy === 'EXTENSION' ? count(filter.extensions) : 0;
  // A comparison reads the same figures over a second period of the same length.
  const periods = typeof args.compare === 'string' ? 2 : 1;
  return periods * periodDays(args.period) * (named || (GROUPS[groupBy] ?? 1));
}

/** What one field costs on its own, given what its selection costs. */
function fieldCost(field: FieldNode, vars: Vars, inner: number): number {
  const name = field.name.value;
  if (name === 'metrics') return 1 + inner + Math.ceil(metricsRows(argsOf(field, vars)) / ROWS_PER_UNIT);
  if (name === 'intraday') {
    const args = argsOf(field, vars);
    const periods = typeof args.compare === 'string' ? 2 : 1;
    return 1 + inner + periods * Math.ceil((INTRADAY_POINTS[typeof args.interval === 'string' ? args.interval : 'MIN_15'] ?? 100) / ROWS_PER_UNIT);
  }
  const first = field.arguments?.some((a) => a.name.value === 'first') ? argsOf(field, vars).first : undefined;
  const pages = typeof first === 'number' && Number.isFinite(first) ? Math.max(1, first) : name === 'calls' ? 50 : 1;
  return 1 + pages * inner;
}

export function measure(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, vars: Vars, seen: ReadonlySet<string> = new Set()): Measure {
  if (!set) return { depth: 0, cost: 0 };
  let depth = 0;
  let cost = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      const inner = measure(sel.selectionSet, fragments, vars, seen);
      depth = Math.max(depth, 1 + inner.depth);
      cost += fieldCost(sel, vars, inner.cost);
    } else {
      let inner: Measure;
      if (sel.kind === Kind.INLINE_FRAGMENT) inner = measure(sel.selectionSet, fragments, vars, seen);
      else {
        const name = sel.name.value;
        if (seen.has(name)) continue; // cycles are reported by the standard rules
        inner = measure(fragments[name]?.selectionSet, fragments, vars, new Set([...seen, name]));
      }
      depth = Math.max(depth, inner.depth);
      cost += inner.cost;
    }
  }
  return { depth, cost };
}

export function fragmentsOf(doc: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  return fragments;
}

export function operationOf(doc: DocumentNode, name: string | null | undefined): OperationDefinitionNode | undefined {
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return name ? ops.find((o) => o.name?.value === name) : ops.length === 1 ? ops[0] : undefined;
}

/**
 * Refuses argument values the engine or storage cannot take, as BAD_INPUT naming the argument:
 * lists over MAX_LIST_ITEMS, over-long strings, and strings that are not well-formed UTF-16 (a lone
 * surrogate cannot be written as UTF-8).
 */
export function checkArguments(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, vars: Vars, seen: ReadonlySet<string> = new Set()): void {
  if (!set) return;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      for (const a of sel.arguments ?? []) checkValue(valueOf(a.value, vars), argPath(sel, a), false);
      checkArguments(sel.selectionSet, fragments, vars, seen);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) checkArguments(sel.selectionSet, fragments, vars, seen);
    else if (!seen.has(sel.name.value)) checkArguments(fragments[sel.name.value]?.selectionSet, fragments, vars, new Set([...seen, sel.name.value]));
  }
}

/** No lone UTF-16 surrogate (paired ones are one code point under /u, lone ones are category Cs). */
export const wellFormed = (s: string): boolean => !/\p{Cs}/u.test(s);

const argPath = (f: FieldNode, a: ArgumentNode) => `${f.name.value}.${a.name.value}`;

function checkValue(v: unknown, path: string, inList: boolean): void {
  if (typeof v === 'string') {
    if (!wellFormed(v)) throw badInput(`${path} contains a lone UTF-16 surrogate: send well-formed Unicode text`, path);
    const max = inList ? MAX_LIST_STRING : MAX_STRING;
    if (v.length > max) throw badInput(`${path} is ${v.length} characters long; at most ${max} are accepted`, path);
  } else if (Array.isArray(v)) {
    if (v.length > MAX_LIST_ITEMS) throw badInput(`${path} lists ${v.length} values; at most ${MAX_LIST_ITEMS} are accepted: query in parts, or without this filter`, path);
    for (const x of v) checkValue(x, path, true);
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) checkValue(x, `${path}.${k}`, inList);
  }
}
