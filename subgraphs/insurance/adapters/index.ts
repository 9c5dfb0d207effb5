import { fhirPayer } from './fhir.js';
import type { PayerAdapter, PayerEndpoint } from './payer.js';
import { restPayer } from './rest.js';
import { x12Payer } from './x12.js';

/** The adapter for what a payer speaks. */
export function adapterFor(endpoint: PayerEndpoint): PayerAdapter {
  switch (endpoint.protocol) {
    case 'FHIR':
      return fhirPayer(endpoint);
    case 'X12':
      return x12Payer(endpoint);
    case 'REST':
      return restPayer(endpoint);
  }
}
