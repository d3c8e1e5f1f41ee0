/**
 * A subscription's signing secret, as the Standard Webhooks specification has it: `whsec_` and a
 * key of 24 to 64 bytes in base64. The receiver keeps it to verify each delivery, erp-bridge to
 * sign them.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const KEY_BYTES = { min: 24, max: 64 } as const;
const PREFIX = 'whsec_';

/** A new secret: 32 random bytes. */
export function generateSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** What is wrong with `secret`, if anything (never the secret itself). */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(PREFIX)) return 'must be a Standard Webhooks secret: whsec_ and base64';
  const body = secret.slice(PREFIX.length);
  const key = Buffer.from(body, 'base64');
  if (
    !/^[A-Za-z0-9+/]+={0,2}$/.test(body) ||
    key.length < KEY_BYTES.min ||
    key.length > KEY_BYTES.max
  )
    return `must hold ${KEY_BYTES.min} to ${KEY_BYTES.max} bytes of key in base64 (\`npm run apikey -- --webhook-secret\` makes one)`;
  try {
    new Webhook(secret);
  } catch {
    return 'is not a key the Standard Webhooks library takes';
  }
  return undefined;
}
