/**
 * `npm run launch-token -- [--partner northwind|southbank] [--cohort ID] [--case SLUG] [--sub ID]`
 * prints a launch token as a seeded partner's platform would sign it (HS256 with its local
 * development secret from prisma/seed-data.ts), for trying launches on a fresh `npm start`.
 * `--issuer ISS --secret SECRET --cohort ID` signs as any partner with a launch secret (the one
 * `registerPartner` showed), as the README's first-partner walkthrough does.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { caseIdFor, COHORTS, PARTNERS } from '../prisma/seed-data.js';

const USAGE = 'usage: npm run launch-token -- [--partner northwind|southbank | --issuer ISS --secret SECRET --cohort ID] [--cohort ID] [--case SLUG] [--sub ID]\n';
const { values } = parseArgs({
  options: { partner: { type: 'string' }, issuer: { type: 'string' }, secret: { type: 'string' }, cohort: { type: 'string' }, case: { type: 'string' }, sub: { type: 'string' } },
});

function signer(): { issuer: string; secret: string; cohortId: string | undefined } | undefined {
  if (values.issuer || values.secret) return values.issuer && values.secret && values.cohort ? { issuer: values.issuer, secret: values.secret, cohortId: values.cohort } : undefined;
  const seeded = values.partner === 'southbank' ? PARTNERS.southbank : values.partner === undefined || values.partner === 'northwind' ? PARTNERS.northwind : undefined;
  if (!seeded) return undefined;
  return { issuer: seeded.launchIssuer, secret: seeded.launchSecret, cohortId: values.cohort ?? Object.values(COHORTS).find((c) => c.partnerId === seeded.id)?.id };
}

const partner = signer();
if (!partner) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const token = await new SignJWT({ role: 'learner', name: 'Ari Synthetic', cohort_id: partner.cohortId, ...(values.case ? { case_id: caseIdFor(values.case) } : {}) })
  .setProtectedHeader({ alg: 'HS256' })
  .setIssuer(partner.issuer)
  .setSubject(values.sub ?? `lms-user-${randomUUID().slice(0, 8)}`)
  .setJti(randomUUID())
  .setIssuedAt()
  .setExpirationTime('5m')
  .sign(new TextEncoder().encode(partner.secret));
process.stdout.write(`${token}\n`);
