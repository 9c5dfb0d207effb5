import { defineConfig } from 'prisma/config';

// Only `prisma generate` is run through the CLI here; migrations are produced and
// applied by scripts/db (the CLI's schema engine binary is not available offline).
export default defineConfig({
  schema: 'prisma/schema',
  migrations: { path: 'prisma/migrations' },
});
