// What a query asks for, read from its selection set, so a read can skip what nobody will see
// (a month of queue metrics without wait percentiles skips the 0.1 s wait sketch: most of the
// bytes of each row). Conservative: anything it cannot see through counts as asked.
import { Kind, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/** Whether any field named in `names` appears anywhere under the resolved field (fragments included). */
export function asksFor(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, names: readonly string[]): boolean {
  const wanted = new Set(names);
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode | undefined): boolean => {
    if (!set) return false;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (wanted.has(s.name.value) || walk(s.selectionSet)) return true;
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        if (walk(s.selectionSet)) return true;
      } else {
        const name = s.name.value;
        if (seen.has(name)) continue;
        seen.add(name);
        const f: FragmentDefinitionNode | undefined = info.fragments[name];
        if (!f || walk(f.selectionSet)) return true;
      }
    }
    return false;
  };
  return info.fieldNodes.some((n) => walk(n.selectionSet));
}

/** The METRICS.md wait percentiles of queue metrics. */
export const WAIT_PERCENTILES = ['wait_p50', 'wait_p90', 'wait_p99'] as const;
