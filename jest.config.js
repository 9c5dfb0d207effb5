// ESM + SWC: TypeScript 7 has no JS compiler API, so ts-jest cannot run (see ENVIRONMENT-NOTES).
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Build output and the federation bench's separately installed competitors are not the project's modules.
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/bench/federation/competitors/'],
  testTimeout: 60000,
  maxWorkers: 2,
};
