// Request limits: a token bucket per API token, and query depth / cost limits as GraphQL
// validation rules (so an over-large query is refused before anything runs).
import type { ASTVisitor, FieldNode, FragmentDefinitionNode, SelectionSetNode, ValidationContext } from 'graphql';
import { graphql } from './graphql.ts';

const { GraphQLError, Kind } = graphql;

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one request from `key`'s bucket; returns the seconds to wait when it is empty. */
  take(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterS: number } {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (this.buckets.size > 100_000) this.buckets.clear();
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.ceil((1 - b.tokens) / this.perSecond) };
  }
}

const tooComplex = (message: string) => new GraphQLError(message, { extensions: { code: 'TOO_COMPLEX', http: { status: 400 } } });

/** Lists are charged by the page size asked for (`first`), default 50. */
function multiplier(field: FieldNode): number {
  const first = field.arguments?.find((a) => a.name.value === 'first');
  if (first && first.value.kind === Kind.INT) return Math.max(1, Number(first.value.value));
  if (field.name.value === 'calls') return 50;
  return 1;
}

interface Measure {
  depth: number;
  cost: number;
}

function measure(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, seen: Set<string>): Measure {
  if (!set) return { depth: 0, cost: 0 };
  let depth = 0;
  let cost = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith('__')) continue;
      const inner = measure(sel.selectionSet, fragments, seen);
      depth = Math.max(depth, 1 + inner.depth);
      cost += 1 + multiplier(sel) * inner.cost;
    } else {
      let inner: Measure;
      if (sel.kind === Kind.INLINE_FRAGMENT) inner = measure(sel.selectionSet, fragments, seen);
      else {
        const name = sel.name.value;
        if (seen.has(name)) continue; // cycles are reported by the standard rules
        const f = fragments[name];
        inner = measure(f?.selectionSet, fragments, new Set([...seen, name]));
      }
      depth = Math.max(depth, inner.depth);
      cost += inner.cost;
    }
  }
  return { depth, cost };
}

export function limitsRule(maxDepth: number, maxCost: number) {
  return (ctx: ValidationContext): ASTVisitor => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const d of ctx.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
    return {
      OperationDefinition(op) {
        const m = measure(op.selectionSet, fragments, new Set());
        if (m.depth > maxDepth) ctx.reportError(tooComplex(`query depth ${m.depth} exceeds the limit of ${maxDepth}: ask for less nesting`));
        if (m.cost > maxCost) ctx.reportError(tooComplex(`query cost ${m.cost} exceeds the limit of ${maxCost}: ask for fewer fields or a smaller page (first)`));
      },
    };
  };
}
