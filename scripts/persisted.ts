/**
 * `npm run persisted`: writes schema/persisted-queries.json (Apollo's persisted-query manifest)
 * from the client operations under schema/operations/. `npm run persisted -- --check` fails
 * when an operation no longer validates against schema/api.graphql or the committed manifest
 * differs from what the operations generate (CI runs it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import {
  API_SCHEMA_PATH, buildManifest, checkManifest, MANIFEST_PATH, readOperationSources, serializeManifest,
} from '../gateway/src/persisted/manifest.js';

const sources = readOperationSources();
const schemaSdl = readFileSync(API_SCHEMA_PATH, 'utf8');

if (process.argv.includes('--check')) {
  const problems = checkManifest({ sources, schemaSdl, committed: existsSync(MANIFEST_PATH) ? readFileSync(MANIFEST_PATH, 'utf8') : undefined });
  if (problems.length > 0) {
    process.stderr.write(`persisted queries:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`persisted queries ok: ${MANIFEST_PATH} matches schema/operations/\n`);
} else {
  const { manifest, problems } = buildManifest(sources, buildSchema(schemaSdl));
  if (problems.length > 0) {
    process.stderr.write(`persisted queries not written:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  writeFileSync(MANIFEST_PATH, serializeManifest(manifest));
  process.stdout.write(`wrote ${MANIFEST_PATH}: ${manifest.operations.length} operations\n`);
}
