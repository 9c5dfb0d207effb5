import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { parse, printSchema } from 'graphql';
import type { SubgraphDefinition } from '../subgraphs/kit/subgraph.js';

export interface Composition {
  subgraphSdl: Record<string, string>;
  supergraphSdl: string;
  /** The schema clients see (no federation machinery): for codegen and frontend teams. */
  apiSdl: string;
}

export const defaultSubgraphUrl = (definition: SubgraphDefinition): string => `http://127.0.0.1:${definition.defaultPort}/graphql`;

/** Composes the subgraphs' SDL into a supergraph with Apollo's composition library. */
export function composeSupergraph(subgraphs: readonly SubgraphDefinition[], urlOf = defaultSubgraphUrl): Composition {
  const subgraphSdl: Record<string, string> = {};
  for (const definition of subgraphs) subgraphSdl[definition.name] = `${printSubgraphSchema(definition.buildSchema()).trim()}\n`;
  const result = composeServices(
    subgraphs.map((definition) => ({ name: definition.name, url: urlOf(definition), typeDefs: parse(subgraphSdl[definition.name] as string) })),
  );
  if (result.errors) {
    throw new Error(`composition failed:\n${result.errors.map((e) => `- ${e.message}`).join('\n')}`);
  }
  return {
    subgraphSdl,
    supergraphSdl: `${result.supergraphSdl.trim()}\n`,
    apiSdl: `${printSchema(result.schema.toAPISchema().toGraphQLJSSchema()).trim()}\n`,
  };
}
