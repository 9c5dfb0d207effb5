/**
 * A GraphQL Code Generator plugin (codegen.ts): the trusted-document files from the client
 * operations, through the same functions as `npm run persisted`, so both write the same bytes.
 * `output: 'manifest'` is schema/persisted-queries.json (Apollo's persisted-query manifest),
 * `output: 'cache-policies'` is schema/persisted-query-cache.json. Codegen is run with tsx as
 * loader (package.json), which is what lets it load this TypeScript file.
 */
import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { buildCachePolicies, serializeCachePolicies } from '../../gateway/src/persisted/cache-policy.js';
import { buildManifest, OPERATIONS_DIR, serializeManifest, type OperationSource } from '../../gateway/src/persisted/manifest.js';

interface PluginConfig {
  output?: 'manifest' | 'cache-policies';
}

/** Codegen's documents as operation sources: the file's own text (comments carry the cache policies). */
function sourcesOf(documents: ReadonlyArray<{ location?: string }>): OperationSource[] {
  return documents.flatMap(({ location }) => {
    if (!location) return [];
    const path = relative(process.cwd(), location);
    const [clientName] = relative(OPERATIONS_DIR, path).split(sep);
    return [{ path, clientName: !clientName || clientName.endsWith('.graphql') ? 'default' : clientName, source: readFileSync(location, 'utf8') }];
  }).sort((a, b) => a.path.localeCompare(b.path));
}

export function plugin(schema: GraphQLSchema, documents: ReadonlyArray<{ location?: string }>, config: PluginConfig): string {
  const sources = sourcesOf(documents);
  const { manifest, problems } = buildManifest(sources, schema);
  const policies = buildCachePolicies(sources, manifest);
  const all = [...problems, ...policies.problems];
  if (all.length > 0) throw new Error(`persisted documents:\n${all.map((p) => `  ${p}`).join('\n')}`);
  return config.output === 'cache-policies' ? serializeCachePolicies(policies.file) : serializeManifest(manifest);
}
