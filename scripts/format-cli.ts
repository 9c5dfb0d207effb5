import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * The shell of the format commands (`npm run -s x12`, `npm run -s fhir`): read FILE (or `-`
 * for stdin), print what it holds as JSON when it is valid (or with `--all`), otherwise print
 * its errors and warnings, and exit 1 when it is invalid, 2 when it cannot be read.
 */
export function runFormatCommand<D extends { valid: boolean; issues: ReadonlyArray<{ severity: 'error' | 'warning' }> }>(
  name: string,
  read: (text: string) => D,
  describe: (document: D) => unknown,
): never {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { all: { type: 'boolean', default: false } } });
  const file = positionals[0];
  if (!file) {
    process.stderr.write(`usage: npm run -s ${name} -- FILE [--all]   (FILE may be - for stdin)\n`);
    process.exit(2);
  }
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    process.stderr.write(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    process.exit(2);
  }
  const document = read(text);
  if (document.valid || values.all) {
    process.stdout.write(`${JSON.stringify(describe(document), null, 2)}\n`);
  } else {
    const errors = document.issues.filter((issue) => issue.severity === 'error');
    const warnings = document.issues.filter((issue) => issue.severity === 'warning');
    process.stdout.write(`${JSON.stringify({ valid: false, errors, warnings }, null, 2)}\n`);
  }
  process.exit(document.valid ? 0 : 1);
}
