import { describe, expect, it } from 'vitest';
import { routedPath, webhookTokenOf } from './routed-path.js';

describe('a URL as the router reads it', () => {
  it('decodes the path but for the reserved characters, and refuses what the router refuses', () => {
    expect(routedPath('/health/%6cive?x=%41')).toBe('/health/live');
    expect(routedPath('/hooks%2Fodoo/a')).toBe('/hooks%2Fodoo/a');
    expect(routedPath('/a/%2541')).toBe('/a/%2541');
    expect(routedPath('/a/%zz')).toBeUndefined();
  });

  it("finds the webhook route's token as its parameter holds it", () => {
    expect(webhookTokenOf('/hooks/odoo/abc?event=deleted')).toBe('abc');
    expect(webhookTokenOf('/hooks/%6fdoo/%61b%2Fc')).toBe('ab/c');
    expect(webhookTokenOf('/hooks/odoo/abc/more')).toBeUndefined();
    expect(webhookTokenOf('/hooks/odoo/')).toBeUndefined();
    expect(webhookTokenOf('/hooks%2Fodoo/abc')).toBeUndefined();
  });
});
