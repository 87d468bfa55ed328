// The one HTTP GraphQL client of the app: the API's /graphql on the same origin (the API serves
// the wallboard) and the screen's token.
import { graphqlRequest } from './sse.ts';

export interface Client {
  url: string;
  token: string | null;
  query<T>(query: string, variables?: Record<string, unknown>, signal?: AbortSignal): Promise<T>;
}

export function createClient(url: string, token: string | null): Client {
  return { url, token, query: (q, v, s) => graphqlRequest(url, token, q, v, s) };
}
