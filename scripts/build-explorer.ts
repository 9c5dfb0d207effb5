/**
 * `npm run build:explorer`: bundles the explorer (gateway/explorer/web, GraphiQL from npm) into
 * gateway/explorer/dist/explorer.{js,css} for the gateway to serve. Fonts are inlined by
 * GraphiQL's stylesheet; nothing is fetched from elsewhere at run time.
 */
import { build } from 'esbuild';

export const EXPLORER_DIST = 'gateway/explorer/dist';

const started = Date.now();
await build({
  entryPoints: { explorer: 'gateway/explorer/web/main.tsx' },
  outdir: EXPLORER_DIST,
  bundle: true,
  minify: true,
  sourcemap: false,
  platform: 'browser',
  target: ['es2020'],
  format: 'iife',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.svg': 'dataurl' },
  logLevel: 'warning',
  legalComments: 'linked',
});
process.stdout.write(`explorer built into ${EXPLORER_DIST} in ${Date.now() - started} ms\n`);
