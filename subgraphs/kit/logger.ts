import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Keys whose values may identify a patient or carry clinical free text. They are replaced
 * wherever they appear in a log record, at any depth, so a careless `log.info({ patient })`
 * cannot leak PHI.
 */
const PHI_KEYS = new Set(
  [
    'name', 'givenName', 'familyName', 'displayName', 'birthDate', 'dob', 'mrn', 'email', 'phone',
    'address', 'addressLine', 'city', 'text', 'message', 'content', 'body', 'variables', 'query',
    'authorization', 'x-api-key', 'cookie', 'token', 'key', 'password', 'secret',
  ].map((k) => k.toLowerCase()),
);

const REDACTED = '[REDACTED]';

export function redactPhi(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((item) => redactPhi(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = PHI_KEYS.has(key.toLowerCase()) ? REDACTED : redactPhi(inner, depth + 1);
  }
  return out;
}

export function createLogger(
  name: string,
  level = process.env['LOG_LEVEL'] ?? (process.env['NODE_ENV'] === 'test' ? 'silent' : 'info'),
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    // `msg` stays: it is written by our code, never from user input.
    formatters: { log: (record: Record<string, unknown>) => redactPhi(record) as Record<string, unknown> },
  };
  return destination ? pino(options, destination) : pino(options);
}
