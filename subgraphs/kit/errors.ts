/**
 * The one error vocabulary of the platform. Services, adapters, routes and the gateway raise
 * a `DomainError` with one of these codes; each transport turns it into its own shape with the
 * same table: GraphQL errors carry the code in `extensions.code`, HTTP answers take the status
 * from `HTTP_STATUS` and a GraphQL-shaped body. Anything else that escapes is a bug: it is
 * logged and answered as a bare INTERNAL_SERVER_ERROR, never with its message or stack.
 */
export const ErrorCode = {
  // The caller's to fix.
  /** No credential, or one that is not valid (expired, bad signature, unknown key). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Signed in, but not allowed: by role, by organization, or not their record. */
  FORBIDDEN: 'FORBIDDEN',
  /** A value in the request is not acceptable; `details.field` names it. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The HTTP request itself is malformed: not JSON, a missing header, a bad webhook signature. */
  BAD_REQUEST: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  /** The record changed meanwhile, already exists, or is in a state that forbids the change. */
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  NOT_ACCEPTABLE: 'NOT_ACCEPTABLE',
  // The operation's shape (refused by the gateway before anything runs).
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  OPERATION_NOT_ALLOWED: 'OPERATION_NOT_ALLOWED',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  // Streams.
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  SUBSCRIPTION_SCHEMA_RELOAD: 'SUBSCRIPTION_SCHEMA_RELOAD',
  /** Events may have been missed (the pubsub was unavailable): reload, then carry on. */
  EVENTS_MAY_BE_MISSED: 'EVENTS_MAY_BE_MISSED',
  // The platform's side; retrying later may succeed.
  /** A subgraph failed or could not be reached; `details.serviceName` names it. */
  DOWNSTREAM_SERVICE_ERROR: 'DOWNSTREAM_SERVICE_ERROR',
  /** A dependency (database, Redis, a vendor) is unavailable right now. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** A dependency did not answer in time. */
  TIMEOUT: 'TIMEOUT',
  /** An insurance payer could not be reached, failed, timed out or answered nonsense; `details.payer` names it. */
  PAYER_UNAVAILABLE: 'PAYER_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status of each code, for every transport that answers over HTTP. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  QUERY_TOO_DEEP: 400,
  TOO_MANY_ALIASES: 400,
  OPERATION_NOT_ALLOWED: 403,
  // GraphQL over HTTP answers a missing persisted query with 200 so clients retry with the text.
  PERSISTED_QUERY_NOT_FOUND: 200,
  TOO_MANY_SUBSCRIPTIONS: 429,
  TOO_MANY_CONNECTIONS: 429,
  SLOW_CONSUMER: 200,
  SUBSCRIPTION_SCHEMA_RELOAD: 200,
  EVENTS_MAY_BE_MISSED: 200,
  DOWNSTREAM_SERVICE_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  PAYER_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

/** Codes a client may retry as they are, after a pause. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.RATE_LIMITED, ErrorCode.DOWNSTREAM_SERVICE_ERROR, ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.TIMEOUT, ErrorCode.PAYER_UNAVAILABLE,
]);

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

export const isErrorCode = (value: unknown): value is ErrorCode => typeof value === 'string' && KNOWN_CODES.has(value);

/** A failure raised on purpose, with a code from the vocabulary. Transport-neutral: no GraphQL, no HTTP here. */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Safe, structured facts for the client (`field`, `retryAfterSeconds`…): never PHI. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }

  /** The GraphQL error shape (also the HTTP body's `errors[0]`). */
  toJSON(): { message: string; extensions: Record<string, unknown> } {
    return { message: this.message, extensions: { ...this.details, code: this.code, ...(this.retryable ? { retryable: true } : {}) } };
  }
}

export const domainError = (code: ErrorCode, message: string, details: Record<string, unknown> = {}): DomainError => new DomainError(code, message, details);

export const unauthenticated = (message = 'Authentication required'): DomainError => domainError(ErrorCode.UNAUTHENTICATED, message);

export const forbidden = (message = 'Not allowed'): DomainError => domainError(ErrorCode.FORBIDDEN, message);

export const notFound = (entity: string): DomainError => domainError(ErrorCode.NOT_FOUND, `${entity} not found`);

export const conflict = (message: string): DomainError => domainError(ErrorCode.CONFLICT, message);

/** One invalid input field; `field` is the input path (e.g. `input.birthDate`). */
export const badUserInput = (field: string, message: string): DomainError =>
  domainError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });

export const badRequest = (message: string): DomainError => domainError(ErrorCode.BAD_REQUEST, message);

/** Collects every problem in an input and reports them together, so a form can show all of them. */
export class InputProblems {
  private readonly problems: Array<{ field: string; message: string }> = [];

  add(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  check(condition: boolean, field: string, message: string): void {
    if (!condition) this.add(field, message);
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const summary = this.problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    throw domainError(ErrorCode.BAD_USER_INPUT, summary, { field: this.problems[0]?.field, problems: this.problems });
  }
}

/** The HTTP answer for an error: its status from the table and a GraphQL-shaped body. */
export function errorHttpResponse(error: DomainError, headers?: Record<string, string>): { status: number; body: { errors: Array<ReturnType<DomainError['toJSON']>> }; headers?: Record<string, string> } {
  return { status: error.httpStatus, body: { errors: [error.toJSON()] }, headers };
}
