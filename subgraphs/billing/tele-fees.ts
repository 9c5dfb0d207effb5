import type { Currency } from '../../prisma/generated/client/client.js';
import { on, type EventConsumer } from '../kit/events/consumers.js';
import { TelemedicineEvents } from '../kit/events/telemedicine.js';

/**
 * Teleconsultation fees: a booked consultation is invoiced at once (an open invoice of one
 * line, `TELE_CONSULTATION` and its id as the source, so a repeated event issues nothing more);
 * the patient pays it with a TELE_FEE payment, whose event names the consultation for
 * telemedicine. A cancelled consultation's invoice is voided while nothing was paid on it.
 */
export const TELE_CONSULTATION = 'TELE_CONSULTATION';

export const teleFeeConsumer: EventConsumer = {
  name: 'billing.tele-fees',
  handlers: [
    on(TelemedicineEvents.consultationBooked, async (event, tx) => {
      const { consultationId, organizationId, patientId, clinicianId, feeAmount, currency } = event.payload;
      const source = { sourceType: TELE_CONSULTATION, sourceId: consultationId };
      if (feeAmount === 0 || (await tx.invoice.findUnique({ where: { sourceType_sourceId: source } }))) return;
      await tx.invoice.create({
        data: {
          organizationId, patientId, currency: currency as Currency, total: feeAmount, status: 'OPEN', finalizedAt: new Date(), createdById: `telemedicine:${clinicianId}`, ...source,
          lines: { create: [{ position: 0, description: 'Teleconsultation fee', quantity: 1, unitAmount: feeAmount, amount: feeAmount }] },
        },
      });
    }),
    on(TelemedicineEvents.consultationCancelled, async (event, tx) => {
      const invoice = await tx.invoice.findUnique({ where: { sourceType_sourceId: { sourceType: TELE_CONSULTATION, sourceId: event.payload.consultationId } } });
      if (!invoice) return;
      const paid = await tx.payment.count({ where: { invoiceId: invoice.id, status: 'SUCCEEDED' } });
      if (paid === 0) await tx.invoice.updateMany({ where: { id: invoice.id, status: { in: ['DRAFT', 'OPEN'] } }, data: { status: 'VOID', voidedAt: new Date() } });
    }),
  ],
};
