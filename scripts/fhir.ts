/**
 * `npm run -s fhir -- FILE` (or `-` for stdin): prints a FHIR R4 resource or bundle as JSON —
 * a summary of what the payer adapters read, and the resource normalized (narrative dropped,
 * Money and Quantity values as the decimals written, local `#id` references resolved). When it
 * breaks an R4 rule it prints the failing FHIR paths instead and exits 1 (`--all` prints
 * everything read anyway, still exiting 1).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeFhir, readFhir } from '../subgraphs/insurance/fhir/read.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { all: { type: 'boolean', default: false } } });
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: npm run -s fhir -- FILE [--all]   (FILE may be - for stdin)\n');
  process.exit(2);
}
let text: string;
try {
  text = readFileSync(file === '-' ? 0 : file, 'utf8');
} catch (error) {
  process.stderr.write(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
  process.exit(2);
}
const document = readFhir(text);
if (document.valid || values.all) {
  process.stdout.write(`${JSON.stringify(describeFhir(document), null, 2)}\n`);
} else {
  const errors = document.issues.filter((issue) => issue.severity === 'error');
  const warnings = document.issues.filter((issue) => issue.severity === 'warning');
  process.stdout.write(`${JSON.stringify({ valid: false, errors, warnings }, null, 2)}\n`);
}
process.exit(document.valid ? 0 : 1);
