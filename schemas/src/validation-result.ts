// The result shape shared by validation and upcasting. It lives apart from both so that
// upcast.ts (used by validate.ts) need not import validate.ts back.

export interface ValidationIssue {
  /** JSON pointer into the event, e.g. /payload/wait_ms */
  path: string;
  expected: string;
  received: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: ValidationIssue[] };
