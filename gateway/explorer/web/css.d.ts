/** Stylesheets are bundled by esbuild (scripts/build-explorer.ts), not imported as modules. */
declare module '*.css';
