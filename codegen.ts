import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * From the client operations under schema/operations/, against the public API schema that
 * `npm run compose` writes: typed documents (the end-to-end tests use them, as a frontend
 * would), the persisted-query manifest (Apollo's format, id = SHA-256 of the printed body) and
 * the response-cache policies declared on the operations. CI checks the two committed JSON
 * files before it generates (`npm run persisted:check`).
 */
const persisted = './scripts/codegen/persisted-documents.ts';
const config: CodegenConfig = {
  schema: 'schema/api.graphql',
  documents: ['schema/operations/**/*.graphql'],
  generates: {
    'test/generated/operations.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string', Date: 'string', JSON: 'unknown' }, strictScalars: true },
    },
    'schema/persisted-queries.json': { plugins: [persisted], config: { output: 'manifest' } },
    'schema/persisted-query-cache.json': { plugins: [persisted], config: { output: 'cache-policies' } },
  },
  ignoreNoDocuments: false,
};

export default config;
