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
import { buildPersistedFiles } from '../../gateway/src/persisted/cache-policy.js';
import { OPERATIONS_DIR, type OperationSource } from '../../gateway/src/persisted/manifest.js';

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
  const { texts, problems } = buildPersistedFiles(sourcesOf(documents), schema);
  if (problems.length > 0) throw new Error(`persisted documents:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return config.output === 'cache-policies' ? texts.policies : texts.manifest;
}
