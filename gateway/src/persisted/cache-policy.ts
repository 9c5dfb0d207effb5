import { existsSync, readFileSync } from 'node:fs';
import { Kind, parse, TokenKind, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type Token } from 'graphql';
import { buildManifest, serializeManifest, type OperationSource, type PersistedOperations, type PersistedQueryManifest } from './manifest.js';

/**
 * Response caching declared with the operation: a comment line in the comment block directly
 * above a query,
 *
 *     # @cache ttl=60 invalidatedBy=nurse.queue.changed,nurse.queue.reset
 *
 * `ttl` (seconds) is required; `invalidatedBy` (domain event types) is optional, without it
 * entries only expire. `npm run persisted` writes the policies to CACHE_POLICY_PATH next to
 * the manifest (which stays exactly Apollo's format), keyed by operation name with the
 * manifest id, so a policy never outlives the text it was written for.
 */
export const CACHE_POLICY_PATH = 'schema/persisted-query-cache.json';

/** Longer than a day would be an export job's schedule, not a cache. */
export const MAX_TTL_SECONDS = 86_400;
/** Outbox event types: lower-case dotted words (`nurse.queue.changed`), as pubsub topics name them. */
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ANNOTATION = /^\s*@cache(?=\s|$)(.*)$/;

export interface CachePolicy {
  ttlSeconds: number;
  /** Event types whose arrival for an organization drops that organization's entries; empty = TTL only. */
  invalidatedBy: string[];
}

export interface CachePolicyFile {
  version: 1;
  operations: Record<string, { id: string } & CachePolicy>;
}

/** The annotation's arguments (the text after `@cache`), or what is wrong with them. */
export function parseCacheAnnotation(text: string): { policy: CachePolicy } | { problem: string } {
  let ttlSeconds: number | undefined;
  let invalidatedBy: string[] | undefined;
  for (const part of text.trim().split(/\s+/).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'ttl') {
      if (ttlSeconds !== undefined) return { problem: 'ttl is given twice' };
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_TTL_SECONDS) return { problem: `ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}, not "${value}"` };
      ttlSeconds = Number(value);
    } else if (key === 'invalidatedBy') {
      if (invalidatedBy !== undefined) return { problem: 'invalidatedBy is given twice' };
      const types = value.split(',');
      const bad = types.find((type) => !EVENT_TYPE.test(type));
      if (bad !== undefined) return { problem: `invalidatedBy takes event types separated by commas (like nurse.queue.changed), not "${bad}"` };
      invalidatedBy = [...new Set(types)].sort();
    } else {
      return { problem: `unknown key "${key}" (the keys are ttl and invalidatedBy)` };
    }
  }
  if (ttlSeconds === undefined) return { problem: 'ttl is required' };
  return { policy: { ttlSeconds, invalidatedBy: invalidatedBy ?? [] } };
}

/**
 * The `@cache` lines of the comment block directly above an operation: comments on the lines
 * right before it, each on a line of its own (a trailing comment after the previous
 * definition's `}` belongs to that definition). graphql-js keeps comments in the token list.
 */
function annotationsAbove(node: OperationDefinitionNode): Array<{ line: number; text: string }> {
  const start = node.loc?.startToken;
  if (!start) return [];
  const found: Array<{ line: number; text: string }> = [];
  let line = start.line;
  for (let token: Token | null = start.prev; token && token.kind === TokenKind.COMMENT && token.line === line - 1; token = token.prev) {
    const before = token.prev;
    if (before && before.kind !== TokenKind.SOF && before.line === token.line) break;
    const match = ANNOTATION.exec(token.value ?? '');
    if (match) found.push({ line: token.line, text: match[1] ?? '' });
    line = token.line;
  }
  return found.reverse();
}

/** Whether the operation reads the caller itself: its answer differs per principal, so per-organization sharing would leak it. */
function readsCaller(node: OperationDefinitionNode): boolean {
  return node.selectionSet.selections.some((s) => s.kind === Kind.FIELD && s.name.value === 'me');
}

/**
 * The policies of the annotated operations, by name with their manifest ids, and what is wrong
 * with any annotation: a malformed one, one on a mutation or subscription, two on one
 * operation, or one on an operation that reads `me`. Parse errors and unnamed operations are
 * the manifest's to report.
 */
export function buildCachePolicies(sources: readonly OperationSource[], manifest: PersistedQueryManifest): { file: CachePolicyFile; problems: string[] } {
  const problems: string[] = [];
  const policies = new Map<string, { id: string } & CachePolicy>();
  const ids = new Map(manifest.operations.map((o) => [o.name, o.id]));
  for (const source of sources) {
    let document: DocumentNode;
    try {
      document = parse(source.source);
    } catch {
      continue;
    }
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION || !definition.name) continue;
      const name = definition.name.value;
      const annotations = annotationsAbove(definition);
      if (annotations.length === 0) continue;
      const where = `${source.path}:${annotations[0]?.line ?? 0}`;
      if (annotations.length > 1) {
        problems.push(`${where}: ${name} has ${annotations.length} @cache annotations; give one`);
        continue;
      }
      if (definition.operation !== 'query') {
        problems.push(`${where}: ${name} is a ${definition.operation}; only queries are cached`);
        continue;
      }
      if (readsCaller(definition)) {
        problems.push(`${where}: ${name} reads me; its answer is per principal, so it cannot be cached per organization`);
        continue;
      }
      const parsed = parseCacheAnnotation(annotations[0]?.text ?? '');
      if ('problem' in parsed) {
        problems.push(`${where}: ${name}: @cache ${parsed.problem}`);
        continue;
      }
      const id = ids.get(name);
      // Not in the manifest: buildManifest reports why (a duplicate name, a parse error).
      if (id !== undefined) policies.set(name, { id, ...parsed.policy });
    }
  }
  const operations: CachePolicyFile['operations'] = {};
  for (const name of [...policies.keys()].sort()) {
    const policy = policies.get(name) as { id: string } & CachePolicy;
    operations[name] = { id: policy.id, ttlSeconds: policy.ttlSeconds, invalidatedBy: policy.invalidatedBy };
  }
  return { file: { version: 1, operations }, problems };
}

export const serializeCachePolicies = (file: CachePolicyFile): string => `${JSON.stringify(file, null, 2)}\n`;

/** Both trusted-document files as `npm run persisted` and codegen write them, and every problem with the operations. */
export function buildPersistedFiles(sources: readonly OperationSource[], schema: GraphQLSchema): { manifest: PersistedQueryManifest; policies: CachePolicyFile; texts: { manifest: string; policies: string }; problems: string[] } {
  const { manifest, problems } = buildManifest(sources, schema);
  const policies = buildCachePolicies(sources, manifest);
  return {
    manifest,
    policies: policies.file,
    texts: { manifest: serializeManifest(manifest), policies: serializeCachePolicies(policies.file) },
    problems: [...problems, ...policies.problems],
  };
}

/** What `npm run persisted -- --check` reports about caching: bad annotations and a stale or missing policy file. */
export function checkCachePolicies(input: { sources: readonly OperationSource[]; manifest: PersistedQueryManifest; committed: string | undefined }): string[] {
  const { file, problems } = buildCachePolicies(input.sources, input.manifest);
  if (input.committed === undefined) problems.push(`${CACHE_POLICY_PATH} is missing; run \`npm run persisted\``);
  else if (input.committed !== serializeCachePolicies(file)) problems.push(`${CACHE_POLICY_PATH} is stale; run \`npm run persisted\` and commit it`);
  return problems;
}

function isCachePolicyFile(value: unknown): value is CachePolicyFile {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const operations = v['operations'];
  if (v['version'] !== 1 || typeof operations !== 'object' || operations === null) return false;
  return Object.values(operations).every((o: unknown) => {
    if (typeof o !== 'object' || o === null) return false;
    const p = o as Record<string, unknown>;
    const ttl = p['ttlSeconds'];
    const types = p['invalidatedBy'];
    return typeof p['id'] === 'string' && typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 1 && ttl <= MAX_TTL_SECONDS &&
      Array.isArray(types) && types.every((t) => typeof t === 'string' && EVENT_TYPE.test(t));
  });
}

export interface ResolvedCachePolicy extends CachePolicy {
  /** The manifest operation's name. */
  name: string;
}

/** The policies the gateway applies, by manifest id, and which operations each event type invalidates. */
export class CachePolicies {
  private readonly byIdMap = new Map<string, ResolvedCachePolicy>();
  private readonly byEvent = new Map<string, string[]>();
  /** Entries of the file that no longer match the manifest (name unknown, other id, not a query): not applied. */
  readonly skipped: string[] = [];

  constructor(file: CachePolicyFile, operations: PersistedOperations) {
    for (const [name, policy] of Object.entries(file.operations)) {
      const operation = operations.byName(name);
      // A stale file must not attach a TTL to text it was not written for.
      if (!operation || operation.id !== policy.id || operation.type !== 'query') {
        this.skipped.push(name);
        continue;
      }
      this.byIdMap.set(operation.id, { name, ttlSeconds: policy.ttlSeconds, invalidatedBy: [...policy.invalidatedBy] });
      for (const type of policy.invalidatedBy) this.byEvent.set(type, [...(this.byEvent.get(type) ?? []), name]);
    }
  }

  static empty(operations: PersistedOperations): CachePolicies {
    return new CachePolicies({ version: 1, operations: {} }, operations);
  }

  /** CACHE_POLICY_PATH for these operations; none (nothing cached) when the file is absent. */
  static load(operations: PersistedOperations, path = CACHE_POLICY_PATH): CachePolicies {
    if (!existsSync(path)) return CachePolicies.empty(operations);
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isCachePolicyFile(parsed)) throw new Error(`${path} is not a persisted-query cache policy file; run \`npm run persisted\``);
    return new CachePolicies(parsed, operations);
  }

  forId(id: string): ResolvedCachePolicy | undefined {
    return this.byIdMap.get(id);
  }

  /** Every event type some policy is invalidated by. */
  eventTypes(): string[] {
    return [...this.byEvent.keys()].sort();
  }

  /** The operations an event of this type invalidates. */
  invalidatedBy(eventType: string): readonly string[] {
    return this.byEvent.get(eventType) ?? [];
  }

  /** Every operation with a policy (names). */
  operationNames(): string[] {
    return [...this.byIdMap.values()].map((p) => p.name).sort();
  }
}
