import type { ObservationStatus } from '../../prisma/generated/client/client.js';
import { DevicesEvents } from '../kit/events/devices.js';
import { recordEventsOf, type TransactionClient } from '../kit/outbox.js';

/**
 * Writing observations, for both sources: lab results (results.ts) and wearable readings
 * (wearables.ts) become the same rows and the same events.
 */
export interface ObservationRow {
  id: string; organizationId: string; patientId: string | null; source: 'LAB' | 'DEVICE'; messageId: string | null; connectionId: string | null; sourceKey: string;
  code: string; codeSystem: string; display: string; valueType: string; valueText: string; valueNumber: string | null; comparator: string | null;
  unit: string | null; unitSystem: string | null; referenceRange: string | null; interpretation: string[]; status: ObservationStatus;
  effectiveAt: Date | null; effectiveEndAt: Date | null;
  placerOrderId: string | null; fillerOrderId: string | null; orderCode: string | null; sourcePatientId: string; sourcePatientName: string; critical: boolean; notes: string[];
}

/** Timestamps without a zone, in UTC: how Prisma stores DateTime. */
const utc = (date: Date | null): string | null => (date ? date.toISOString().replace('Z', '') : null);

/**
 * Observations in one statement whatever their number (the rows as one JSON parameter): a lab
 * sends results by the thousand, and Prisma's createMany costs about half a millisecond a row.
 * A row whose source key is already stored (a data point synced again) is skipped; the ids of
 * the rows written are returned, so only they are announced.
 */
export async function insertObservations(tx: TransactionClient, rows: readonly ObservationRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const json = JSON.stringify(rows.map((row) => ({ ...row, effectiveAt: utc(row.effectiveAt), effectiveEndAt: utc(row.effectiveEndAt) })));
  const inserted = await tx.$queryRaw<Array<{ id: string }>>`
    INSERT INTO "devices"."Observation" ("id", "organizationId", "patientId", "source", "messageId", "connectionId", "sourceKey", "code", "codeSystem", "display", "valueType", "valueText", "valueNumber", "comparator",
      "unit", "unitSystem", "referenceRange", "interpretation", "status", "effectiveAt", "effectiveEndAt", "placerOrderId", "fillerOrderId", "orderCode", "sourcePatientId", "sourcePatientName", "critical", "notes")
    SELECT r."id", r."organizationId", r."patientId", r."source", r."messageId", r."connectionId", r."sourceKey", r."code", r."codeSystem", r."display", r."valueType", r."valueText", r."valueNumber", r."comparator",
      r."unit", r."unitSystem", r."referenceRange", r."interpretation", r."status", r."effectiveAt", r."effectiveEndAt", r."placerOrderId", r."fillerOrderId", r."orderCode", r."sourcePatientId", r."sourcePatientName", r."critical", r."notes"
    FROM jsonb_to_recordset(${json}::jsonb) AS r("id" text, "organizationId" text, "patientId" text, "source" "devices"."ObservationSource", "messageId" text, "connectionId" text, "sourceKey" text, "code" text, "codeSystem" text,
      "display" text, "valueType" text, "valueText" text, "valueNumber" numeric, "comparator" text, "unit" text, "unitSystem" text, "referenceRange" text, "interpretation" text[],
      "status" "devices"."ObservationStatus", "effectiveAt" timestamp(3), "effectiveEndAt" timestamp(3), "placerOrderId" text, "fillerOrderId" text, "orderCode" text, "sourcePatientId" text, "sourcePatientName" text, "critical" boolean, "notes" text[])
    ON CONFLICT ("sourceKey") DO NOTHING
    RETURNING "id"`;
  return new Set(inserted.map((row) => row.id));
}

export interface Announced {
  id: string;
  organizationId: string;
  code: string;
  codeSystem: string;
  display: string;
  flags: string[];
  critical: boolean;
  source: 'LAB' | 'DEVICE';
}

export const announcedOf = (row: Pick<ObservationRow, 'id' | 'organizationId' | 'code' | 'codeSystem' | 'display' | 'interpretation' | 'critical' | 'source'>): Announced => ({
  id: row.id, organizationId: row.organizationId, code: row.code, codeSystem: row.codeSystem, display: row.display, flags: row.interpretation, critical: row.critical, source: row.source,
});

/** `devices.observation.added` for each, and `devices.observation.critical` for the critical ones, in the caller's transaction. */
export function announce(tx: TransactionClient, patientId: string, observations: readonly Announced[]): Promise<void> {
  return announceEach(tx, observations.map((observation) => ({ patientId, observation })));
}

export async function announceEach(tx: TransactionClient, announced: ReadonlyArray<{ patientId: string; observation: Announced }>): Promise<void> {
  if (announced.length === 0) return;
  const envelope = ({ patientId, observation }: { patientId: string; observation: Announced }) => ({
    aggregateId: observation.id, organizationId: observation.organizationId,
    payload: { observationId: observation.id, organizationId: observation.organizationId, patientId, code: observation.code, codeSystem: observation.codeSystem, source: observation.source },
  });
  await recordEventsOf(tx, DevicesEvents.observationAdded, announced.map(envelope));
  const critical = announced.filter(({ observation }) => observation.critical);
  if (critical.length) {
    await recordEventsOf(tx, DevicesEvents.observationCritical, critical.map((entry) => {
      const { payload, ...rest } = envelope(entry);
      return { ...rest, payload: { ...payload, display: entry.observation.display.slice(0, 200), flags: entry.observation.flags.slice(0, 10), urgency: 'CRITICAL' as const } };
    }));
  }
}
