/**
 * `/health/live` says the process is up; `/health/ready` says whether it can serve: every
 * dependency is probed and the body names the part that is down. No API key: probes and load
 * balancers call these — so the probes run at most once a second whatever the traffic (callers
 * in between share the last answer or the one in flight), and why a part is down (hosts, driver
 * messages) is told only to an operator key.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

export interface ReadinessCheck {
  readonly name: string;
  /** Resolves when the part works; rejects (or resolves false) when it does not. */
  check(): Promise<boolean | void>;
  /** Parts that are reported but do not make the service unready (e.g. an ERP we only read). */
  readonly optional?: boolean;
}

export interface HealthRoutesOptions {
  checks: readonly ReadinessCheck[];
  isShuttingDown: () => boolean;
  /** Why the process is not alive (a wedged worker: workers/liveness.ts); undefined while it is. */
  deadReason?: () => string | undefined;
  checkTimeoutMs?: number;
  /** How long one round of probes answers for; default 1 s. */
  probeEveryMs?: number;
  /** Whether this caller may read why a part is down (hosts, driver messages). */
  showsDetails: (request: FastifyRequest) => boolean;
}

const partSchema = z.object({
  status: z.enum(['up', 'down']),
  optional: z.boolean(),
  error: z.string().optional(),
});
const readySchema = z.object({
  status: z.enum(['ready', 'unready']),
  parts: z.record(z.string(), partSchema),
});

type Parts = z.infer<typeof readySchema>['parts'];

/** The probes' routes, which no rate limit counts (load balancers call them all the time). */
export const HEALTH_ROUTE_PATHS: ReadonlySet<string> = new Set(['/health/live', '/health/ready']);

export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = (app, options) => {
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  const probeEveryMs = options.probeEveryMs ?? 1_000;
  let last: { parts: Parts; atMs: number } | undefined;
  let inFlight: Promise<Parts> | undefined;

  async function probeAll(): Promise<Parts> {
    const parts: Parts = {};
    await Promise.all(
      options.checks.map(async (part) => {
        const { name, optional = false } = part;
        try {
          const ok = await Promise.race([
            part.check(),
            new Promise<never>((_, reject) =>
              setTimeout(
                () => reject(new Error(`no answer in ${timeoutMs} ms`)),
                timeoutMs,
              ).unref(),
            ),
          ]);
          parts[name] =
            ok === false
              ? { status: 'down', optional, error: 'unreachable' }
              : { status: 'up', optional };
        } catch (error) {
          parts[name] = {
            status: 'down',
            optional,
            error: error instanceof Error ? error.message.slice(0, 200) : 'unreachable',
          };
        }
      }),
    );
    return parts;
  }

  function probes(): Promise<Parts> {
    if (last && performance.now() - last.atMs < probeEveryMs) return Promise.resolve(last.parts);
    inFlight ??= probeAll()
      .then((parts) => {
        last = { parts, atMs: performance.now() };
        return parts;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  app.get(
    '/health/live',
    {
      schema: {
        tags: ['health'],
        response: {
          200: z.object({ status: z.literal('live') }),
          503: z.object({ status: z.literal('dead'), reason: z.string() }),
        },
      },
    },
    async (_request, reply) => {
      const reason = options.deadReason?.();
      if (reason === undefined) return { status: 'live' as const };
      return reply.code(503).send({ status: 'dead' as const, reason });
    },
  );

  app.get(
    '/health/ready',
    { schema: { tags: ['health'], response: { 200: readySchema, 503: readySchema } } },
    async (request, reply) => {
      const parts: Parts = { ...(await probes()) };
      if (options.isShuttingDown())
        parts.process = { status: 'down', optional: false, error: 'shutting down' };
      const ready = Object.values(parts).every((part) => part.status === 'up' || part.optional);
      const shown = options.showsDetails(request)
        ? parts
        : Object.fromEntries(
            Object.entries(parts).map(([name, { status, optional }]) => [
              name,
              { status, optional },
            ]),
          );
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'unready', parts: shown });
    },
  );
  return Promise.resolve();
};
