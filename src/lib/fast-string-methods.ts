/**
 * Keeps method calls on strings (`charCodeAt`, `slice`, `indexOf`…) on V8's fast path in a
 * process that loads ioredis.
 *
 * ioredis defines `class VerbatimString extends String` (for RESP3's verbatim strings) and never
 * makes one on RESP2. Defining a subclass of String turns `String.prototype` into a slow,
 * dictionary-mode object until the subclass has an instance, and every method looked up on a
 * primitive string goes through it: the XML-RPC decoder took 50 % more CPU in the worker than in
 * a process without ioredis (docs/performance.md). One instance makes the prototype fast again.
 * Composition roots call this once their imports are loaded.
 */
import { VerbatimString } from 'ioredis/built/resp/verbatim-string.js';

export function restoreFastStringMethods(): void {
  new VerbatimString('txt', '');
}
