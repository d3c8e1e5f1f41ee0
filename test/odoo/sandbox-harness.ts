/**
 * Test fixture for the Odoo tests: an in-process sandbox on a free port and clients for it, all
 * closed by one `close()` (each test file starts its own sandbox: isolation by construction).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { OdooError } from '../../src/clients/odoo/index.js';
import { createOdooClient, type OdooClient } from '../../src/clients/odoo/index.js';
import type { OdooClientOptions, OdooProtocol } from '../../src/clients/odoo/odoo-types.js';
import {
  createOdooSandbox,
  type OdooSandbox,
  type OdooSandboxOptions,
} from '../../dev/sandbox/odoo-sandbox.js';

export const PROTOCOLS: readonly OdooProtocol[] = ['xmlrpc', 'jsonrpc', 'json2'];

/** A logger that writes nowhere, for clients under test. */
export const silentLogger = pino({ level: 'silent' });

export interface SandboxHarness {
  sandbox: OdooSandbox;
  /** A client for the sandbox (fast retries by default); closed by `close()`. */
  client(
    protocol: OdooProtocol,
    overrides?: Partial<OdooClientOptions>,
    logger?: typeof silentLogger,
  ): OdooClient;
  close(): Promise<void>;
}

export async function startSandbox(options: OdooSandboxOptions = {}): Promise<SandboxHarness> {
  const sandbox = createOdooSandbox({ loginCooldown: false, ...options });
  await sandbox.start();
  const clients: OdooClient[] = [];
  return {
    sandbox,
    client(protocol, overrides = {}, logger = silentLogger) {
      const client = createOdooClient(
        {
          url: sandbox.url,
          database: sandbox.database,
          username: sandbox.username,
          password: sandbox.password,
          timeoutMs: 10_000,
          retries: 2,
          retryBaseDelayMs: 5,
          retryMaxDelayMs: 20,
          protocol,
          ...overrides,
        },
        { logger },
      );
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()));
      await sandbox.stop();
    },
  };
}

/** The calls a protocol makes to log in: `common.authenticate`, or JSON-2's `context_get`. */
export function loginCalls(sandbox: OdooSandbox, protocol: OdooProtocol): number {
  return protocol === 'json2'
    ? sandbox.control.countCalls({ protocol, method: 'context_get' })
    : sandbox.control.countCalls({ protocol, method: 'authenticate' });
}

/** Runs `promise`, expecting it to reject, and returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/**
 * A sandbox for the calling test file: started before its tests and handed to `bind`, stopped
 * after them, and `reset` before each (by default: no fault left over from the test before).
 */
export function useSandbox(
  options: OdooSandboxOptions,
  bind: (harness: SandboxHarness) => void,
  reset: (harness: SandboxHarness) => void = (harness) => harness.sandbox.control.clearFaults(),
): void {
  let started: SandboxHarness | undefined;
  beforeAll(async () => {
    started = await startSandbox(options);
    bind(started);
  });
  afterAll(async () => {
    await started?.close();
  });
  beforeEach(() => reset(started!));
}

/** Asserts an OdooError with this code and retryability, and returns it. */
export function expectOdooError(error: unknown, code: string, retryable: boolean): OdooError {
  expect(error).toBeInstanceOf(OdooError);
  const odooError = error as OdooError;
  expect({ code: odooError.code, retryable: odooError.retryable }).toEqual({ code, retryable });
  return odooError;
}
