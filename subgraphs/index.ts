import { analyticsSubgraph } from './analytics/index.js';
import { billingSubgraph } from './billing/index.js';
import { identitySubgraph } from './identity/index.js';
import { insuranceSubgraph } from './insurance/index.js';
import { chatSubgraph } from './chat/index.js';
import { devicesSubgraph } from './devices/index.js';
import type { SubgraphDefinition } from './kit/subgraph.js';
import { nurseSubgraph } from './nurse/index.js';
import { telemedicineSubgraph } from './telemedicine/index.js';
import { trainingSubgraph } from './training/index.js';

/** Every subgraph of the supergraph, in composition order. */
export const SUBGRAPHS: readonly SubgraphDefinition[] = [identitySubgraph, trainingSubgraph, chatSubgraph, nurseSubgraph, billingSubgraph, insuranceSubgraph, telemedicineSubgraph, devicesSubgraph, analyticsSubgraph];

export function findSubgraph(name: string): SubgraphDefinition | undefined {
  return SUBGRAPHS.find((subgraph) => subgraph.name === name);
}
