/**
 * Where the read API serves a model's records: the default source's under `/api/models/…`, as
 * always; another source's under `/api/sources/{source}/models/…` (docs/sources.md). The routes
 * are registered at it, and a body's cut value names its field route under it: a marker in a
 * source's record never points at the default source's record of the same id.
 */
import type { ModelDeclaration } from './family.js';
import { DEFAULT_SOURCE } from '../sources/family-key.js';

export function recordsPath({ model, source }: Pick<ModelDeclaration, 'model' | 'source'>): string {
  const root =
    source === undefined || source === DEFAULT_SOURCE ? '/api' : `/api/sources/${source}`;
  return `${root}/models/${model}/records`;
}
