/**
 * `npm run -s x12 -- FILE` (or `-` for stdin): prints an X12 5010 interchange as JSON — its
 * envelopes, each transaction set with its loops and normalized view (eligibility benefits,
 * claims with lines, remittance payments and adjustments, status answers), and any warnings.
 * When the file is invalid it prints the positioned errors as JSON instead and exits 1
 * (`--all` prints everything read anyway, still exiting 1).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeX12, parseX12 } from '../subgraphs/insurance/x12/parse.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { all: { type: 'boolean', default: false } } });
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: npm run -s x12 -- FILE [--all]   (FILE may be - for stdin)\n');
  process.exit(2);
}
let text: string;
try {
  text = readFileSync(file === '-' ? 0 : file, 'utf8');
} catch (error) {
  process.stderr.write(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
  process.exit(2);
}
const document = parseX12(text);
if (document.valid || values.all) {
  process.stdout.write(`${JSON.stringify(describeX12(document), null, 2)}\n`);
} else {
  const errors = document.issues.filter((issue) => issue.severity === 'error');
  const warnings = document.issues.filter((issue) => issue.severity === 'warning');
  process.stdout.write(`${JSON.stringify({ valid: false, errors, warnings }, null, 2)}\n`);
}
process.exit(document.valid ? 0 : 1);
