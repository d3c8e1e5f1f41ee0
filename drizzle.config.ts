import { defineConfig } from 'drizzle-kit';

// Generation needs no database; `npm run db:migrate` applies migrations with its own lock.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
  strict: true,
});
