/**
 * Stock @apollo/gateway + @apollo/server, as the upstream benchmark runs it: the static
 * supergraph, no options (telemetry off, as the upstream runs it through env). PORT, SUBGRAPHS_BASE.
 */
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { supergraphAt } from './workload.js';

const gateway = new ApolloGateway({ supergraphSdl: supergraphAt(process.env['SUBGRAPHS_BASE'] ?? 'http://127.0.0.1:4200') });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { port: Number(process.env['PORT'] ?? 4000), host: '127.0.0.1' } });
process.stdout.write(`stock gateway ready at ${url}\n`);
