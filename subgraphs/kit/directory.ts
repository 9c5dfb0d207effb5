import type { PrismaClient } from '../../prisma/generated/client/client.js';
import { forbidden, notFound } from './errors.js';
import { catchUp, on, type EventConsumer, type EventHandler } from './events/consumers.js';
import { IdentityEvents } from './events/identity.js';
import { TrainingEvents } from './events/training.js';
import type { Logger } from './logger.js';
import type { TransactionClient } from './outbox.js';

/**
 * Tenancy across domains. A domain that stores references to another domain's records (a chat,
 * a queue entry or an invoice naming a patient; a webhook endpoint naming a partner) keeps a
 * small directory of those records' organizations, fed by the owner's events through a durable
 * consumer. Before it writes a reference it asks its directory: a record of another
 * organization is refused (FORBIDDEN), an unknown one is NOT_FOUND, and nothing is written.
 * No call to the owner, no read of its tables.
 */
export type DirectoryKind = 'Patient' | 'Partner' | 'Cohort';

/** Which events announce each kind of record, and where its id and organization are in them. */
const ANNOUNCEMENTS = {
  Patient: [
    { definition: IdentityEvents.patientRegistered, entry: (p: { patientId: string; organizationId: string }) => ({ id: p.patientId, organizationId: p.organizationId }) },
    { definition: IdentityEvents.patientUpdated, entry: (p: { patientId: string; organizationId: string }) => ({ id: p.patientId, organizationId: p.organizationId }) },
  ],
  Partner: [{ definition: TrainingEvents.partnerRegistered, entry: (p: { partnerId: string; organizationId: string }) => ({ id: p.partnerId, organizationId: p.organizationId }) }],
  Cohort: [{ definition: TrainingEvents.cohortRegistered, entry: (p: { cohortId: string; organizationId: string }) => ({ id: p.cohortId, organizationId: p.organizationId }) }],
} as const;

export const directoryConsumerName = (domain: string): string => `${domain}.directory`;

/** The consumer that keeps `domain`'s directory of the given kinds (add it to the subgraph's consumers). */
export function directoryConsumer(domain: string, kinds: readonly DirectoryKind[]): EventConsumer {
  const remember = async (tx: TransactionClient, kind: DirectoryKind, seqText: string, entry: { id: string; organizationId: string }): Promise<void> => {
    const key = { domain, kind, id: entry.id };
    const seq = BigInt(seqText);
    const existing = await tx.directoryEntry.findUnique({ where: { domain_kind_id: key } });
    // Events may be seen out of order: an older one never overwrites a newer one.
    if (existing && existing.eventSeq >= seq) return;
    await tx.directoryEntry.upsert({
      where: { domain_kind_id: key },
      create: { ...key, organizationId: entry.organizationId, eventSeq: seq },
      update: { organizationId: entry.organizationId, eventSeq: seq },
    });
  };
  const handlers: EventHandler[] = kinds.flatMap((kind) =>
    ANNOUNCEMENTS[kind].map(({ definition, entry }) =>
      on(definition, (event, tx) => remember(tx, kind, event.seq, (entry as (p: typeof event.payload) => { id: string; organizationId: string })(event.payload))),
    ),
  );
  return { name: directoryConsumerName(domain), handlers };
}

export interface DirectoryOptions {
  prisma: PrismaClient;
  log: Logger;
  domain: string;
}

const LABEL: Record<DirectoryKind, string> = { Patient: 'patient', Partner: 'partner', Cohort: 'cohort' };

/** A domain's view of its directory. */
export class Directory {
  constructor(private readonly options: DirectoryOptions) {}

  /**
   * The organization of a record, or null when the directory has never heard of it. A miss first
   * catches up on the owner's events (a patient registered a moment ago is known at once: its
   * event was committed with it), so a miss means the record does not exist.
   */
  async organizationOf(kind: DirectoryKind, id: string): Promise<string | null> {
    const found = await this.lookup(kind, id);
    if (found !== null) return found;
    await this.catchUp(kind);
    return this.lookup(kind, id);
  }

  /**
   * Checks that the caller may refer to a record: it must exist and belong to one of
   * `organizationIds`. Throws NOT_FOUND or FORBIDDEN; returns the record's organization.
   */
  async require(kind: DirectoryKind, id: string, organizationIds: readonly string[]): Promise<string> {
    const organizationId = await this.organizationOf(kind, id);
    if (organizationId === null) throw notFound(kind);
    if (!organizationIds.includes(organizationId)) throw forbidden(`That ${LABEL[kind]} is not in your organization`);
    return organizationId;
  }

  /** `require('Patient', …)`, the common case. */
  requirePatientIn(patientId: string, organizationIds: readonly string[]): Promise<string> {
    return this.require('Patient', patientId, organizationIds);
  }

  private async lookup(kind: DirectoryKind, id: string): Promise<string | null> {
    const entry = await this.options.prisma.directoryEntry.findUnique({ where: { domain_kind_id: { domain: this.options.domain, kind, id } } });
    return entry?.organizationId ?? null;
  }

  private catchUp(kind: DirectoryKind): Promise<void> {
    // Only this kind's events, under the domain's consumer name (the live consumer's claims).
    return catchUp(this.options.prisma, this.options.log, directoryConsumer(this.options.domain, [kind]));
  }
}
