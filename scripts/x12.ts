/**
 * `npm run -s x12 -- FILE` (or `-` for stdin): prints an X12 5010 interchange as JSON — its
 * envelopes, each transaction set with its loops and normalized view (eligibility benefits,
 * claims with lines, remittance payments and adjustments, status answers), and any warnings.
 * When the file is invalid it prints the positioned errors as JSON instead and exits 1
 * (`--all` prints everything read anyway, still exiting 1).
 */
import { describeX12, parseX12 } from '../subgraphs/insurance/x12/parse.js';
import { runFormatCommand } from './format-cli.js';

runFormatCommand('x12', parseX12, describeX12);
