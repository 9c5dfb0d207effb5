/**
 * `npm run -s fhir -- FILE` (or `-` for stdin): prints a FHIR R4 resource or bundle as JSON —
 * a summary of what the payer adapters read, and the resource normalized (narrative dropped,
 * Money and Quantity values as the decimals written, local `#id` references resolved). When it
 * breaks an R4 rule it prints the failing FHIR paths instead and exits 1 (`--all` prints
 * everything read anyway, still exiting 1).
 */
import { describeFhir, readFhir } from '../subgraphs/insurance/fhir/read.js';
import { runFormatCommand } from './format-cli.js';

runFormatCommand('fhir', readFhir, describeFhir);
