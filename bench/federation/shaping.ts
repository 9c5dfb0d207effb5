/**
 * `npm run bench:shaping`: the last step of executing the benchmark's TestQuery — shaping the
 * merged subgraph data (87 KB) to the client's selection — by @apollo/gateway's interpretive
 * `computeResponse` and by CareGraph's compiled shape (gateway/src/executor/shape-response.ts),
 * side by side in one process, alternating, on copies of the same data. Prints the time per
 * answer of each and the ratio; both results are checked equal first.
 */
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import { parse } from 'graphql';
import { compileResponseShape } from '../../gateway/src/executor/shape-response.js';
import { EXPECTED_RESPONSE, QUERY, supergraphAt } from './workload.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 5);
const ITERATIONS = Number(process.env['ITERATIONS'] ?? 400);

const operation = operationFromDocument(Supergraph.build(supergraphAt('http://localhost')).apiSchema(), parse(QUERY));
const shape = compileResponseShape(operation);
if (!shape) throw new Error('TestQuery selects no introspection: it must compile');
const data = (JSON.parse(EXPECTED_RESPONSE) as { data: Record<string, unknown> }).data;

const apollo = () => computeResponse({ operation, variables: {}, input: structuredClone(data), introspectionHandling: () => null }).data;
const compiled = () => shape.shape(structuredClone(data), {}).data;
if (JSON.stringify(apollo()) !== JSON.stringify(compiled())) throw new Error('the two shapings disagree');

/** Microseconds per call, the copy of the input (the same for both) included. */
function time(run: () => unknown): number {
  const started = process.hrtime.bigint();
  for (let index = 0; index < ITERATIONS; index++) run();
  return Number(process.hrtime.bigint() - started) / ITERATIONS / 1000;
}
const copyOnly = () => structuredClone(data);

for (let warm = 0; warm < 200; warm++) {
  apollo();
  compiled();
}
const results = { apollo: [] as number[], compiled: [] as number[], copy: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  results.apollo.push(time(apollo));
  results.compiled.push(time(compiled));
  results.copy.push(time(copyOnly));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const copy = median(results.copy);
const apolloUs = median(results.apollo) - copy;
const compiledUs = median(results.compiled) - copy;
process.stdout.write(`shaping the 87 KB TestQuery answer (median of ${ROUNDS} rounds × ${ITERATIONS}, input copy of ${copy.toFixed(0)} µs subtracted)\n`);
process.stdout.write(`  @apollo/gateway computeResponse  ${apolloUs.toFixed(0)} µs\n`);
process.stdout.write(`  CareGraph compiled shape          ${compiledUs.toFixed(0)} µs\n`);
process.stdout.write(`  ratio                             ${(apolloUs / compiledUs).toFixed(2)}× faster\n`);
