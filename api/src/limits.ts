// Request limits, all decided before the engine is asked anything: a token bucket of requests
// and one of query cost per API token, the document's size (lexical tokens) and depth, its cost
// (./cost.ts) and its arguments' sizes, and a deadline per request that cancels its engine reads.
import type { ASTVisitor, ParseOptions, Source, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ApiSettings } from '@callboard/platform';
import { graphql } from './graphql.ts';
import { checkArguments, fragmentsOf, measure, operationOf } from './cost.ts';
import { deadlineIn } from './engine-gate.ts';
import { ApiError } from './errors.ts';
import type { Auth } from './tokens.ts';

const { GraphQLError } = graphql;

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes `n` from `key`'s bucket; returns the seconds to wait when it holds less. */
  take(key: string, now = Date.now(), n = 1): { ok: true } | { ok: false; retryAfterS: number } {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (this.buckets.size > 100_000) this.buckets.clear();
    this.buckets.set(key, b);
    if (b.tokens >= n) {
      b.tokens -= n;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.ceil((n - b.tokens) / this.perSecond) };
  }
}

// spec: false: yoga would otherwise answer validation errors to `Accept: application/json` with
// 200 (the GraphQL-over-HTTP rule for that media type); a refused query is the client's error.
const tooComplex = (message: string) => new GraphQLError(message, { extensions: { code: 'TOO_COMPLEX', http: { status: 400, spec: false } } });

/**
 * Depth and cost as a validation rule, with the arguments written in the document (a variable
 * counts as its cheapest value here; the full check with variables runs before execution).
 * An alias bomb is refused here, before anything runs.
 */
export function limitsRule(maxDepth: number, maxCost: number) {
  return (ctx: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(ctx.getDocument());
    return {
      OperationDefinition(op) {
        let m;
        try {
          m = measure(op.selectionSet, fragments, {});
        } catch (e) {
          if (e instanceof RangeError) return ctx.reportError(tooComplex(`the query is nested too deeply to measure: ask for less nesting (at most ${maxDepth})`));
          throw e;
        }
        if (m.depth > maxDepth) ctx.reportError(tooComplex(`query depth ${m.depth} exceeds the limit of ${maxDepth}: ask for less nesting`));
        if (m.cost > maxCost) ctx.reportError(tooComplex(costMessage(m.cost, maxCost)));
      },
    };
  };
}

const costMessage = (cost: number, maxCost: number) =>
  `query cost ${cost} exceeds the limit of ${maxCost}: ask for fewer fields or aliases, a shorter period, fewer groups, or a smaller page (first)`;

// graphql-js appends "Did you mean …?" from the schema to validation errors. No role gets them:
// the schema is documented in the repo and introspectable by those who write queries, and a
// display token on a public screen must not be able to map it by typos.
const SUGGESTION = /\s*Did you mean [^?]*\?/g;
function withoutSuggestions(e: Error): Error {
  if (!(e instanceof GraphQLError)) return e;
  const message = e.message.replace(SUGGESTION, '');
  return message === e.message ? e : new GraphQLError(message, { nodes: e.nodes, extensions: e.extensions });
}

/**
 * The yoga plugin: a bounded parser (lexical tokens; stack overflow on deep nesting is a typed
 * error, not a 500), no field suggestions, and before execution the cost with variables, the
 * arguments' sizes, the token's cost budget and the request's deadline (`ctx.deadline`).
 */
export function requestLimits(settings: Pick<ApiSettings, 'maxDepth' | 'maxCost' | 'maxTokens' | 'costPerMinute' | 'queryDeadlineMs'>): Plugin<{ auth?: Auth }> {
  const budget = new RateLimiter(settings.costPerMinute / 60, settings.costPerMinute);
  const admit = (args: { document: import('graphql').DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null; contextValue: { auth?: Auth } }) => {
    const op = operationOf(args.document, args.operationName);
    if (!op) return;
    const fragments = fragmentsOf(args.document);
    const vars = args.variableValues ?? {};
    checkArguments(op.selectionSet, fragments, vars);
    const { cost } = measure(op.selectionSet, fragments, vars);
    if (cost > settings.maxCost) throw tooComplex(costMessage(cost, settings.maxCost));
    const auth = args.contextValue.auth;
    if (!auth) return;
    const b = budget.take(auth.token_hash, Date.now(), cost);
    if (!b.ok) {
      throw new ApiError('RATE_LIMITED', `this token has spent its query cost budget (${settings.costPerMinute} per minute; this query costs ${cost}): retry in ${b.retryAfterS} s`, {
        retry_after_s: b.retryAfterS,
      });
    }
  };
  const refused = (e: unknown) => {
    if (e instanceof GraphQLError) return { errors: [e] };
    throw e;
  };
  return {
    onParse({ setParseFn }) {
      setParseFn((source: string | Source, options?: ParseOptions) => {
        try {
          return graphql.parse(source, { ...options, maxTokens: settings.maxTokens });
        } catch (e) {
          if (e instanceof RangeError) throw tooComplex(`the query is nested too deeply to parse: ask for less nesting (at most ${settings.maxDepth})`);
          if (e instanceof GraphQLError && /Document contains more tha[nt] \d+ tokens/.test(e.message)) throw tooComplex(`the query has more than ${settings.maxTokens} tokens: ask for fewer fields or aliases`);
          throw e;
        }
      });
    },
    onValidate() {
      return ({ result, setResult }) => setResult(result.map(withoutSuggestions));
    },
    onExecute({ args, setResultAndStopExecution, extendContext }) {
      try {
        admit(args as never);
      } catch (e) {
        setResultAndStopExecution(refused(e));
        return;
      }
      const deadline = deadlineIn(settings.queryDeadlineMs);
      extendContext({ deadline } as never);
      return { onExecuteDone: () => deadline.clear() };
    },
    // yoga marks every parse error as a GraphQL-over-HTTP "spec" error, answered 200 to
    // `Accept: application/json`; a document refused for its size is still the client's error.
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !('errors' in result) || ('data' in result && result.data)) return;
      const status = Math.max(0, ...(result.errors ?? []).map((e) => (e.extensions?.code === 'TOO_COMPLEX' ? 400 : 0)));
      if (status) setResult({ ...result, extensions: { ...result.extensions, http: { ...(result.extensions?.http as object), status } } });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      try {
        admit(args as never);
      } catch (e) {
        setResultAndStopExecution(refused(e));
      }
    },
  };
}
