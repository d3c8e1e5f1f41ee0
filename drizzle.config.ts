import { defineConfig } from 'drizzle-kit';

// Generation needs no database; `npm run db:migrate` applies migrations with its own lock.
export default defineConfig({
  dialect: 'postgresql',
  // The engine's own tables, and the copy tables of the families declared in code.
  schema: ['./src/db/schema/index.ts', './src/families/*/family.ts'],
  out: './drizzle',
  strict: true,
});
