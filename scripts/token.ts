/**
 * `npm run token -- --role nurse [--org ID] [--user ID] [--ttl SECONDS]`: prints a platform
 * token signed with the configured key, for local use and tests. Without --user it picks the
 * seeded user with that role (for PATIENT, one linked to a seeded patient).
 */
import { parseArgs } from 'node:util';
import { loadPlatformKeys } from '../subgraphs/kit/keys.js';
import { signPlatformToken } from '../subgraphs/kit/tokens.js';
import { readSharedConfig } from '../subgraphs/kit/config.js';
import { parseRole, ROLES } from '../subgraphs/kit/identity.js';
import { defaultUserForRole } from '../prisma/seed-data.js';

const { values } = parseArgs({ options: { role: { type: 'string' }, org: { type: 'string' }, user: { type: 'string' }, patient: { type: 'string' }, ttl: { type: 'string' } } });
const role = values.role ? parseRole(values.role) : undefined;
if (!role) {
  process.stderr.write(`usage: npm run token -- --role <${ROLES.join('|').toLowerCase()}> [--org ID] [--user ID] [--ttl SECONDS]\n`);
  process.exit(2);
}
const seeded = values.user ? undefined : defaultUserForRole(role, values.org);
if (!values.user && !seeded) {
  process.stderr.write(`no seeded ${role} user${values.org ? ` in organization ${values.org}` : ''}; pass --user\n`);
  process.exit(2);
}
let keys;
try {
  // The server's keys only: a token signed with keys the server does not know would be refused.
  keys = await loadPlatformKeys(process.env, readSharedConfig().dataDir, { create: false });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
const token = await signPlatformToken(
  keys,
  {
    userId: values.user ?? (seeded?.id as string),
    role,
    organizationId: values.org ?? seeded?.organizationId ?? null,
    patientId: values.patient ?? seeded?.patientId ?? null,
  },
  values.ttl ? Number(values.ttl) : 3600,
);
process.stdout.write(`${token}\n`);
