/**
 * `npm run -s hl7 -- FILE` (or `-` for stdin): prints each HL7 v2 message of the file (a
 * batch too) as JSON — segments and fields with escapes decoded, for ORU^R01 the typed view
 * (patient, orders, observations with values, units, ranges and flags) — and the ACK it would
 * get. When a message would be refused it prints the errors with their ERR location and ACK
 * instead, and exits 1 (`--all` prints everything read anyway, still exiting 1).
 */
import { reportHl7 } from '../subgraphs/devices/hl7/describe.js';
import { runFormatCommand } from './format-cli.js';

runFormatCommand('hl7', (text) => reportHl7(text), (report) => ({ valid: report.valid, messages: report.messages, warnings: report.issues.filter((issue) => issue.severity === 'warning') }));
