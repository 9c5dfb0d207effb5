import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  buildSchema, Kind, parse, print, validate, visit,
  type DefinitionNode, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode,
} from 'graphql';

/** One trusted document, as in Apollo's persisted-query manifest. */
export interface ManifestOperation {
  /** SHA-256 (hex) of `body`: what clients send as `extensions.persistedQuery.sha256Hash`. */
  id: string;
  body: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  /** The folder under schema/operations/ it came from (frontend, partner, dashboard, bi). */
  clientName: string;
}

export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

export const MANIFEST_PATH = 'schema/persisted-queries.json';
export const OPERATIONS_DIR = 'schema/operations';
export const API_SCHEMA_PATH = 'schema/api.graphql';

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A `.graphql` file of client operations; `clientName` is its first folder under schema/operations/. */
export interface OperationSource {
  path: string;
  clientName: string;
  source: string;
}

export function readOperationSources(dir = OPERATIONS_DIR): OperationSource[] {
  const files: string[] = [];
  const walk = (folder: string): void => {
    // Sorted, so the manifest does not depend on the filesystem's listing order.
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.graphql')) files.push(path);
    }
  };
  walk(dir);
  return files.map((path) => {
    const [clientName] = relative(dir, path).split(sep);
    // A file directly under operations/ has no client; the manifest needs one for every operation.
    return { path, clientName: clientName && clientName.endsWith('.graphql') ? 'default' : (clientName ?? 'default'), source: readFileSync(path, 'utf8') };
  });
}

/** The fragments an operation uses, directly or through other fragments. */
function usedFragments(node: DefinitionNode, fragments: Map<string, FragmentDefinitionNode>, into = new Map<string, FragmentDefinitionNode>()): Map<string, FragmentDefinitionNode> {
  visit(node, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      const fragment = fragments.get(name);
      if (!fragment || into.has(name)) return;
      into.set(name, fragment);
      usedFragments(fragment, fragments, into);
    },
  });
  return into;
}

/**
 * Each named operation becomes one manifest entry whose body is the operation followed by the
 * fragments it uses (by name), printed by graphql-js: the printed form is stable under
 * reformatting and comments, so editing whitespace does not change an id clients hold.
 */
export function buildManifest(sources: readonly OperationSource[], schema?: GraphQLSchema): { manifest: PersistedQueryManifest; problems: string[] } {
  const problems: string[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: Array<{ node: OperationDefinitionNode; source: OperationSource }> = [];
  for (const source of sources) {
    let document: DocumentNode;
    try {
      document = parse(source.source);
    } catch (error) {
      problems.push(`${source.path}: ${(error as Error).message}`);
      continue;
    }
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        if (fragments.has(definition.name.value)) problems.push(`${source.path}: fragment ${definition.name.value} is defined twice`);
        fragments.set(definition.name.value, definition);
      } else if (definition.kind === Kind.OPERATION_DEFINITION) {
        if (!definition.name) problems.push(`${source.path}: every operation must be named (the name is how BI exports and metrics find it)`);
        else operations.push({ node: definition, source });
      }
    }
  }
  const entries: ManifestOperation[] = [];
  const names = new Set<string>();
  for (const { node, source } of operations) {
    const name = node.name?.value ?? '';
    if (names.has(name)) problems.push(`${source.path}: operation ${name} is defined twice`);
    names.add(name);
    const used = [...usedFragments(node, fragments).values()].sort((a, b) => a.name.value.localeCompare(b.name.value));
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [node, ...used] };
    if (schema) for (const error of validate(schema, document)) problems.push(`${source.path}: ${name}: ${error.message}`);
    const body = print(document);
    entries.push({ id: sha256Hex(body), body, name, type: node.operation, clientName: source.clientName });
  }
  entries.sort((a, b) => a.clientName.localeCompare(b.clientName) || a.name.localeCompare(b.name));
  return { manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations: entries }, problems };
}

export const serializeManifest = (manifest: PersistedQueryManifest): string => `${JSON.stringify(manifest, null, 2)}\n`;

/**
 * What `npm run persisted -- --check` reports: operations that no longer validate against the
 * API schema, and a committed manifest that differs from what the operations generate.
 * Empty when all is well.
 */
export function checkManifest(input: { sources: readonly OperationSource[]; schemaSdl: string; committed: string | undefined }): string[] {
  const { manifest, problems } = buildManifest(input.sources, buildSchema(input.schemaSdl));
  if (input.committed === undefined) problems.push(`${MANIFEST_PATH} is missing; run \`npm run persisted\``);
  else if (input.committed !== serializeManifest(manifest)) problems.push(`${MANIFEST_PATH} is stale; run \`npm run persisted\` and commit it`);
  return problems;
}

function isManifest(value: unknown): value is PersistedQueryManifest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v['format'] === 'apollo-persisted-query-manifest' && v['version'] === 1 && Array.isArray(v['operations']) &&
    v['operations'].every((o: unknown) => {
      if (typeof o !== 'object' || o === null) return false;
      const op = o as Record<string, unknown>;
      return ['id', 'body', 'name', 'clientName'].every((k) => typeof op[k] === 'string') && ['query', 'mutation', 'subscription'].includes(op['type'] as string);
    });
}

/** The manifest's operations by id and by name; ids are re-derived, so a hand-edited body cannot keep an old id. */
export class PersistedOperations {
  private readonly byIdMap = new Map<string, ManifestOperation>();
  private readonly byNameMap = new Map<string, ManifestOperation>();

  constructor(readonly manifest: PersistedQueryManifest) {
    for (const operation of manifest.operations) {
      if (sha256Hex(operation.body) !== operation.id) throw new Error(`persisted operation ${operation.name}: id is not the SHA-256 of its body`);
      if (this.byNameMap.has(operation.name)) throw new Error(`persisted operation ${operation.name} appears twice`);
      this.byIdMap.set(operation.id, operation);
      this.byNameMap.set(operation.name, operation);
    }
  }

  static load(path = MANIFEST_PATH): PersistedOperations {
    // No manifest is a deployment without trusted documents: safelisted callers can then run nothing.
    if (!existsSync(path)) return new PersistedOperations({ format: 'apollo-persisted-query-manifest', version: 1, operations: [] });
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isManifest(parsed)) throw new Error(`${path} is not an Apollo persisted-query manifest`);
    return new PersistedOperations(parsed);
  }

  byId(id: string): ManifestOperation | undefined {
    return this.byIdMap.get(id);
  }

  byName(name: string): ManifestOperation | undefined {
    return this.byNameMap.get(name);
  }

  /** For code that runs a named manifest operation (REST aliases); a missing one is a deployment mistake. */
  require(name: string): ManifestOperation {
    const operation = this.byNameMap.get(name);
    if (!operation) throw new Error(`persisted operation ${name} is not in the manifest; run \`npm run persisted\``);
    return operation;
  }
}

let defaultOperations: PersistedOperations | undefined;
/** schema/persisted-queries.json, read once per process. */
export function defaultPersistedOperations(): PersistedOperations {
  defaultOperations ??= PersistedOperations.load();
  return defaultOperations;
}
