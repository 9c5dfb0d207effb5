/**
 * `npm run compose`: writes schema/subgraphs/<name>.graphql, schema/supergraph.graphql and
 * schema/api.graphql, schema/public-routes.json and schema/events.md from the code. `npm run compose -- --check` fails when composition fails
 * or the committed files differ from what the code generates (CI runs it).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { SUBGRAPHS } from '../subgraphs/index.js';
import { catalogueMarkdown } from '../subgraphs/kit/events/catalogue.js';
import { PUBLIC_ROUTES_PATH, publicRoutesOf } from '../subgraphs/kit/routes.js';
import { composeSupergraph } from './composition.js';

const check = process.argv.includes('--check');
const composition = composeSupergraph(SUBGRAPHS);
const files = new Map<string, string>([
  ...Object.entries(composition.subgraphSdl).map(([name, sdl]) => [`schema/subgraphs/${name}.graphql`, sdl] as const),
  ['schema/supergraph.graphql', composition.supergraphSdl],
  ['schema/api.graphql', composition.apiSdl],
  [PUBLIC_ROUTES_PATH, `${JSON.stringify(publicRoutesOf(SUBGRAPHS), null, 2)}\n`],
  // The event catalogue, for partners reading webhooks.
  ['schema/events.md', catalogueMarkdown()],
]);

if (check) {
  const stale = [...files].filter(([path, content]) => !existsSync(path) || readFileSync(path, 'utf8') !== content).map(([path]) => path);
  const extra = existsSync('schema/subgraphs')
    ? readdirSync('schema/subgraphs').map((f) => `schema/subgraphs/${f}`).filter((path) => !files.has(path))
    : [];
  if (stale.length > 0 || extra.length > 0) {
    process.stderr.write(`schema/ is out of date; run \`npm run compose\` and commit:\n${[...stale, ...extra].map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`composition ok: ${SUBGRAPHS.length} subgraphs, schema/ matches the code\n`);
} else {
  mkdirSync('schema/subgraphs', { recursive: true });
  for (const [path, content] of files) writeFileSync(path, content);
  process.stdout.write(`wrote ${files.size} files under schema/\n`);
}
