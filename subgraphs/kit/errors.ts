import { GraphQLError } from 'graphql';

/**
 * The error codes a client can rely on. Every error a resolver raises carries one of these;
 * anything else is masked as INTERNAL_SERVER_ERROR before it leaves a server.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

export function domainError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export const unauthenticated = (message = 'Authentication required'): GraphQLError =>
  domainError(ErrorCode.UNAUTHENTICATED, message);

export const forbidden = (message = 'Not allowed'): GraphQLError => domainError(ErrorCode.FORBIDDEN, message);

export const notFound = (entity: string): GraphQLError => domainError(ErrorCode.NOT_FOUND, `${entity} not found`);

export const conflict = (message: string): GraphQLError => domainError(ErrorCode.CONFLICT, message);

/** One invalid input field; `field` is the input path (e.g. `input.birthDate`). */
export const badUserInput = (field: string, message: string): GraphQLError =>
  domainError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });

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
    throw domainError(ErrorCode.BAD_USER_INPUT, summary, {
      field: this.problems[0]?.field,
      problems: this.problems,
    });
  }
}

/** True when an error was raised on purpose with a client-facing code. */
export function hasKnownCode(error: { extensions?: Record<string, unknown> }): boolean {
  const code = error.extensions?.['code'];
  return typeof code === 'string' && KNOWN_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR;
}
