/**
 * The read engine as `app.records` (src/http/records/record-reader.ts): built once, before the
 * routes that read the copy, which take it from the instance. It holds no connection of its own:
 * the database handles it reads with are closed by the process that made them.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import {
  createRecordReader,
  type RecordReader,
  type RecordReaderOptions,
} from '../records/record-reader.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Lists, details, child and link pages, histories and field values of the copy. */
    records: RecordReader;
  }
}

export const recordsPlugin = fp(
  (app: FastifyInstance, options: RecordReaderOptions) => {
    app.decorate('records', createRecordReader(options));
  },
  { name: 'records' },
);
