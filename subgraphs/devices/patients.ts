import type { SubgraphDeps } from '../kit/context.js';
import { catchUp, on, type EventConsumer } from '../kit/events/consumers.js';
import { IdentityEvents } from '../kit/events/identity.js';
import { patientIdentifierDigest } from '../kit/identifiers.js';
import type { TransactionClient } from '../kit/outbox.js';

/**
 * Which patient an MRN digest names (identity announces each patient's): results from a lab
 * are matched by it. A later event for the patient replaces an earlier one; an older one never
 * overwrites a newer.
 */
export const patientIdentifierConsumer: EventConsumer = {
  name: 'devices.patient-identifiers',
  handlers: [IdentityEvents.patientRegistered, IdentityEvents.patientUpdated].map((definition) =>
    on(definition, async (event, tx: TransactionClient) => {
      const { patientId, organizationId, mrnDigest } = event.payload;
      if (!mrnDigest) return;
      const seq = BigInt(event.seq);
      const existing = await tx.patientIdentifier.findUnique({ where: { patientId } });
      if (existing && existing.eventSeq >= seq) return;
      await tx.patientIdentifier.upsert({ where: { patientId }, create: { patientId, organizationId, mrnDigest, eventSeq: seq }, update: { organizationId, mrnDigest, eventSeq: seq } });
    }),
  ),
};

/**
 * The patients results name: for each, the one patient of its organization whose MRN digest
 * matches one of its identifiers (PID-3), or null. A miss first catches up on identity's
 * announcements (a patient registered a moment ago is known at once). One query per organization.
 */
export async function matchPatients(deps: Pick<SubgraphDeps, 'prisma' | 'log' | 'identifierKey'>, results: ReadonlyArray<{ organizationId: string; identifiers: readonly string[] }>): Promise<Array<string | null>> {
  const key = deps.identifierKey;
  if (!key) return results.map(() => null);
  const digests = results.map((result) => result.identifiers.map((identifier) => patientIdentifierDigest(key, result.organizationId, identifier)));
  const lookup = async (): Promise<Array<string | null>> => {
    const known = new Map<string, string[]>();
    for (const organizationId of new Set(results.map((result) => result.organizationId))) {
      const wanted = [...new Set(results.flatMap((result, index) => (result.organizationId === organizationId ? (digests[index] ?? []) : [])))];
      if (wanted.length === 0) continue;
      for (const row of await deps.prisma.patientIdentifier.findMany({ where: { organizationId, mrnDigest: { in: wanted } }, select: { patientId: true, mrnDigest: true } })) {
        known.set(`${organizationId}:${row.mrnDigest}`, [...(known.get(`${organizationId}:${row.mrnDigest}`) ?? []), row.patientId]);
      }
    }
    return results.map((result, index) => {
      const patients = [...new Set((digests[index] ?? []).flatMap((digest) => known.get(`${result.organizationId}:${digest}`) ?? []))];
      return patients.length === 1 ? (patients[0] as string) : null;
    });
  };
  let matched = await lookup();
  if (matched.some((patient, index) => patient === null && (results[index]?.identifiers.length ?? 0) > 0)) {
    await catchUp(deps.prisma, deps.log, patientIdentifierConsumer);
    matched = await lookup();
  }
  return matched;
}
