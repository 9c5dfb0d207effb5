/**
 * `npm run persisted`: writes schema/persisted-queries.json (Apollo's persisted-query manifest)
 * from the client operations under schema/operations/, and schema/persisted-query-cache.json
 * (the response-cache policies of operations annotated `# @cache ttl=… invalidatedBy=…`).
 * `npm run persisted -- --check` fails when an operation no longer validates against
 * schema/api.graphql, an annotation is malformed, or either committed file differs from what
 * the operations generate (CI runs it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { API_SCHEMA_PATH, buildManifest, checkManifest, MANIFEST_PATH, readOperationSources } from '../gateway/src/persisted/manifest.js';
import { buildPersistedFiles, CACHE_POLICY_PATH, checkCachePolicies } from '../gateway/src/persisted/cache-policy.js';

const sources = readOperationSources();
const schemaSdl = readFileSync(API_SCHEMA_PATH, 'utf8');
const committed = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

if (process.argv.includes('--check')) {
  // Policies are checked against the manifest the operations generate, not the committed one:
  // a stale manifest is reported once, by checkManifest.
  const { manifest } = buildManifest(sources, buildSchema(schemaSdl));
  const problems = [
    ...checkManifest({ sources, schemaSdl, committed: committed(MANIFEST_PATH) }),
    ...checkCachePolicies({ sources, manifest, committed: committed(CACHE_POLICY_PATH) }),
  ];
  if (problems.length > 0) {
    process.stderr.write(`persisted queries:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`persisted queries ok: ${MANIFEST_PATH} and ${CACHE_POLICY_PATH} match schema/operations/\n`);
} else {
  const { manifest, policies, texts, problems } = buildPersistedFiles(sources, buildSchema(schemaSdl));
  if (problems.length > 0) {
    process.stderr.write(`persisted queries not written:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  writeFileSync(MANIFEST_PATH, texts.manifest);
  writeFileSync(CACHE_POLICY_PATH, texts.policies);
  process.stdout.write(`wrote ${MANIFEST_PATH}: ${manifest.operations.length} operations; ${CACHE_POLICY_PATH}: ${Object.keys(policies.operations).length} cached\n`);
}
