/**
 * `npm run launch-token -- [--partner northwind|southbank] [--cohort ID] [--case SLUG] [--sub ID]`:
 * prints a launch token as a seeded partner's platform would sign it (HS256 with its local
 * development secret from prisma/seed-data.ts), for trying launches on a fresh `npm start`.
 * A real partner signs with the secret `registerPartner` showed it, or with its own keys.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { caseIdFor, COHORTS, PARTNERS } from '../prisma/seed-data.js';

const { values } = parseArgs({ options: { partner: { type: 'string', default: 'northwind' }, cohort: { type: 'string' }, case: { type: 'string' }, sub: { type: 'string' } } });
const partner = values.partner === 'southbank' ? PARTNERS.southbank : values.partner === 'northwind' ? PARTNERS.northwind : undefined;
if (!partner) {
  process.stderr.write('usage: npm run launch-token -- [--partner northwind|southbank] [--cohort ID] [--case SLUG] [--sub ID]\n');
  process.exit(2);
}
const cohortId = values.cohort ?? Object.values(COHORTS).find((c) => c.partnerId === partner.id)?.id;
const token = await new SignJWT({ role: 'learner', name: 'Ari Synthetic', cohort_id: cohortId, ...(values.case ? { case_id: caseIdFor(values.case) } : {}) })
  .setProtectedHeader({ alg: 'HS256' })
  .setIssuer(partner.launchIssuer)
  .setSubject(values.sub ?? `lms-user-${randomUUID().slice(0, 8)}`)
  .setJti(randomUUID())
  .setIssuedAt()
  .setExpirationTime('5m')
  .sign(new TextEncoder().encode(partner.launchSecret));
process.stdout.write(`${token}\n`);
