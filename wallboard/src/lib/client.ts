// The one HTTP GraphQL client of the app: the API's /graphql on the same origin (the API serves
// the wallboard) and the screen's token.
import type { Operation } from './queries.ts';
import { graphqlRequest } from './sse.ts';

export interface Client {
  url: string;
  token: string | null;
  query<TResult, TVariables extends Record<string, unknown>>(
    operation: Operation<TResult, TVariables>,
    variables?: TVariables,
    signal?: AbortSignal,
  ): Promise<TResult>;
}

export function createClient(url: string, token: string | null): Client {
  return { url, token, query: (q, v, s) => graphqlRequest(url, token, q, v, s) };
}
