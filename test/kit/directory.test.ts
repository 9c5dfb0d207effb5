import { randomUUID } from 'node:crypto';
import { Directory, directoryConsumer } from '../../subgraphs/kit/directory.js';
import { EventConsumerRunner } from '../../subgraphs/kit/events/consumers.js';
import { IdentityEvents } from '../../subgraphs/kit/events/identity.js';
import { TrainingEvents } from '../../subgraphs/kit/events/training.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { recordEvent } from '../../subgraphs/kit/outbox.js';
import { openTestDatabase } from '../support/database.js';

/** Tenancy across domains: a domain's directory of other domains' records, kept from their events. */
const log = createLogger('directory-test', 'silent');
let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.closeAll();
});

const registered = (patientId: string, organizationId: string) =>
  database.prisma.$transaction((tx) => recordEvent(tx, IdentityEvents.patientRegistered, { aggregateId: patientId, organizationId, payload: { patientId, organizationId } }));

describe('a domain’s directory', () => {
  it('knows a patient registered a moment ago (catching up on a miss), refuses another organization’s and an unknown one', async () => {
    const directory = new Directory({ prisma: database.prisma, log, domain: 'chat' });
    const patientId = randomUUID();
    await registered(patientId, 'org-north');
    // No live consumer ran: the lookup itself catches up on identity's events.
    expect(await directory.require('Patient', patientId, ['org-north'])).toBe('org-north');
    await expect(directory.require('Patient', patientId, ['org-south'])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(directory.require('Patient', randomUUID(), ['org-north'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('is kept per domain, and an older event never overwrites a newer one', async () => {
    const patientId = randomUUID();
    await registered(patientId, 'org-a');
    await database.prisma.$transaction((tx) => recordEvent(tx, IdentityEvents.patientUpdated, { aggregateId: patientId, organizationId: 'org-b', payload: { patientId, organizationId: 'org-b' } }));
    const consumer = directoryConsumer('billing', ['Patient']);
    const runner = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer] });
    while ((await runner.consumeOnce(consumer)) > 0);
    expect(await new Directory({ prisma: database.prisma, log, domain: 'billing' }).organizationOf('Patient', patientId)).toBe('org-b');
    // Replaying the older event (a rebuild, a second instance) changes nothing.
    const older = await database.prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: patientId, type: IdentityEvents.patientRegistered.type } });
    await database.prisma.eventConsumption.deleteMany({ where: { consumer: consumer.name, eventId: older.id } });
    while ((await runner.consumeOnce(consumer)) > 0);
    expect(await new Directory({ prisma: database.prisma, log, domain: 'billing' }).organizationOf('Patient', patientId)).toBe('org-b');
    expect(await database.prisma.directoryEntry.count({ where: { id: patientId } })).toBe(1);
  });

  it('keeps partners and cohorts from training’s events', async () => {
    const partnerId = randomUUID();
    await database.prisma.$transaction((tx) => recordEvent(tx, TrainingEvents.partnerRegistered, { aggregateId: partnerId, organizationId: 'org-t', partnerId, payload: { partnerId, organizationId: 'org-t', principalId: null } }));
    const directory = new Directory({ prisma: database.prisma, log, domain: 'identity' });
    expect(await directory.require('Partner', partnerId, ['org-t'])).toBe('org-t');
    await expect(directory.require('Partner', partnerId, ['org-x'])).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'That partner is not in your organization' });
  });
});
