import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the client operations under schema/operations/, against the public API
 * schema that `npm run compose` writes. The end-to-end tests use these, as a frontend would.
 */
const config: CodegenConfig = {
  schema: 'schema/api.graphql',
  documents: ['schema/operations/**/*.graphql'],
  generates: {
    'test/generated/operations.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string', Date: 'string', JSON: 'unknown' }, strictScalars: true },
    },
  },
  ignoreNoDocuments: false,
};

export default config;
