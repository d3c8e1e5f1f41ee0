/**
 * The BC and line shapes the API answers with, derived from the BC family's declaration
 * (PostgreSQL builds the bodies themselves: records/record-bodies.ts).
 */
import { bcsFamily } from '../../families/bcs/family.js';
import { recordSchema } from '../records/record-bodies.js';

export const bcSchema = recordSchema(bcsFamily.root, 'Bc');

export const bcLineSchema = recordSchema(bcsFamily.children[0]!, 'BcLine');
