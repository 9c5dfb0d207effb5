import { signRemittance, SIGNATURE_HEADER } from '../../subgraphs/insurance/remittance.js';
import { build835 } from '../../subgraphs/insurance/x12/build.js';
import { generateInterchange } from '../../subgraphs/insurance/x12/generate.js';

/** A claim paid (or denied) in a test 835: amounts as X12 writes them ("120.50"). */
export interface RemittedClaim {
  id: string;
  charge: string;
  paid: string;
  payerClaimNumber: string;
  /** CLP02: 1 processed as primary (default), 4 denied. */
  status?: string;
  /** What the patient owes (CAS PR-2); a denial without it is adjusted CO-50 (not medically necessary). */
  responsibility?: string;
}

/** An 835 from the fake X12 payer paying `claims`, with its trace number. */
export function an835(claims: RemittedClaim[], trace: string): string {
  const total = claims.reduce((sum, claim) => sum + Math.round(Number(claim.paid) * 100), 0) / 100;
  return generateInterchange({
    sender: { qualifier: 'ZZ', id: 'FAKEPAYER' }, receiver: { qualifier: 'ZZ', id: 'CAREGRAPH' }, date: '261205', time: '1200', controlNumber: '501', usage: 'P', acknowledgmentRequested: false,
    groups: [{ functionalId: 'HP', senderCode: 'FAKEPAYER', receiverCode: 'CAREGRAPH', date: '20261205', time: '1200', controlNumber: '501', version: '005010X221A1', transactions: [build835({
      controlNumber: '0001', paymentAmount: String(total), paymentDate: '20261205', traceNumber: trace,
      payer: { name: 'FAKE X12 PAYER', id: 'FAKEPAYER', idQualifier: 'PI' }, payee: { name: 'RIVERSIDE', id: '1234567893', idQualifier: 'XX' },
      claims: claims.map((claim) => {
        const owed = claim.responsibility ?? '0';
        return {
          patientControlNumber: claim.id, status: claim.status ?? '1', charge: claim.charge, paid: claim.paid, patientResponsibility: owed, payerClaimControlNumber: claim.payerClaimNumber,
          patient: { lastName: 'SYNTHETICA', firstName: 'FAYE', memberId: 'SYNX-3001' },
          adjustments: owed !== '0' ? [{ group: 'PR', reason: '2', amount: owed }] : claim.status === '4' ? [{ group: 'CO', reason: '50', amount: claim.charge }] : [],
          services: [],
        };
      }),
    })] }],
  });
}

/** Posts a remittance to the platform's webhook, signed with the payer's secret. */
export async function postRemittance(baseUrl: string, payer: string, body: string, contentType: string, secret: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/webhooks/insurance/${payer}/remittance`, { method: 'POST', headers: { 'content-type': contentType, [SIGNATURE_HEADER]: signRemittance(secret, body) }, body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}
