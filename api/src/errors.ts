// Typed API errors: a stable code in `extensions.code` (and the HTTP status used when the error
// stops a request before GraphQL runs), with a message a person can act on.
import { graphql } from './graphql.ts';

export const ERROR_STATUS = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_PERIOD: 400,
  BAD_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  TOO_COMPLEX: 400,
  UNAVAILABLE: 503,
  TIMEOUT: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends graphql.GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...extra, http: { status: ERROR_STATUS[code] } } });
  }
}

export const unauthenticated = (why: string) => new ApiError('UNAUTHENTICATED', `${why}: send "Authorization: Bearer <token>" (create one with \`callboard token create --tenant ID --role ROLE\`)`);
export const forbidden = (what: string, role: string) => new ApiError('FORBIDDEN', `a ${role.toLowerCase()} token may not ${what}`);
export const notFound = (what: string, id: string) => new ApiError('NOT_FOUND', `no ${what} with id ${JSON.stringify(id)} in your tenant`);
export const badInput = (message: string, field?: string) => new ApiError('BAD_INPUT', message, field ? { field } : {});

/** The JSON body for an error that ends a request before GraphQL runs. */
export function errorBody(e: ApiError): string {
  return JSON.stringify({ errors: [{ message: e.message, extensions: { code: e.code, ...Object.fromEntries(Object.entries(e.extensions).filter(([k]) => k !== 'http' && k !== 'code')) } }] });
}
