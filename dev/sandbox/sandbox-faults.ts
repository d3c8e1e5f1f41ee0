/**
 * Failure injection for the sandbox: rules that make matching calls fail the ways a real Odoo
 * deployment does (a proxy's HTML 502/504, a worker killed mid-answer, a slow answer, a
 * serialization conflict, a revoked key, a record that breaks whoever touches it), for the next
 * N matching calls or with a probability, and the call counter tests assert on.
 */
import type { OdooProtocol } from '../../src/clients/odoo/odoo-types.js';
import { RecordList } from './python-values.js';

/** What an injected failure does. */
export type SandboxFaultKind =
  /**
   * An HTML error page from a reverse proxy (`status`, default 502; 429 a rate limit, 503 a
   * maintenance page), with `retryAfter` as its Retry-After header; the call does not run.
   */
  | 'html'
  /** The answer starts, then the connection is reset (a worker killed by limit_time_real). */
  | 'reset'
  /** The answer is cut in half but the connection ends cleanly (a broken proxy). */
  | 'truncate'
  /** The answer is delayed by `latencyMs`; combines with any other rule. */
  | 'latency'
  /** Fault 1 `could not serialize access due to concurrent update`; the call does not run. */
  | 'serialization'
  /** Refused credentials: `authenticate` answers False, other calls fault 3 (JSON-2: 401). */
  | 'auth'
  /** An Odoo fault with `faultCode` (default 2) and `message`; the call does not run. */
  | 'fault';

export interface SandboxFaultRule {
  kind: SandboxFaultKind;
  status?: number;
  /** With `html`: the Retry-After header (delay-seconds or an HTTP date). */
  retryAfter?: string;
  latencyMs?: number;
  faultCode?: 1 | 2 | 3 | 4;
  message?: string;
  /** How many matching calls it hits (default 1; `Infinity` for all; with `probability`, Infinity). */
  times?: number;
  /** Hit each matching call with this probability (seeded: runs are reproducible). */
  probability?: number;
  protocol?: OdooProtocol;
  service?: 'common' | 'object' | 'db';
  /** The RPC method (`authenticate`, `execute_kw`) or the model method (`search_read`, methodMatches). */
  method?: string;
  model?: string;
  /**
   * Only calls that touch this record of `model` (default `dimagaz.bc`): its id among the ids
   * a call is given (read, write, unlink), or among the records or ids a call returns.
   */
  recordId?: number;
  /** With `recordId` on a BC: also calls on `dimagaz.bc.line` that return lines of that BC. */
  includeLines?: boolean;
}

/** A rule once injected. */
export interface SandboxFaultHandle {
  /** How many calls it has hit so far. */
  readonly triggered: number;
  remove(): void;
}

/** One call as the sandbox saw it, for matching and counting. */
export interface SandboxCallInfo {
  protocol: OdooProtocol;
  service: 'common' | 'object' | 'db' | 'web';
  /** `authenticate`, `version`, `execute_kw`, `execute`; JSON-2: the model method. */
  method: string;
  model?: string;
  /** The ORM method of an `execute_kw`/`execute` or JSON-2 call. */
  modelMethod?: string;
  /** Record ids the call was given (read/write/unlink). */
  ids?: readonly number[];
}

export type SandboxCallFilter = Partial<
  Pick<SandboxCallInfo, 'protocol' | 'service' | 'method' | 'model'>
>;

/** One call and when the sandbox received it (its body read, before it ran). */
export interface SandboxTimedCall extends SandboxCallInfo {
  /** Milliseconds since the epoch, from the machine's clock. */
  atMs: number;
}

/** Calls whose times are kept: the latest ones (a bench's copy makes hundreds of thousands). */
const TIMED_CALLS_KEPT = 100_000;

/** Counts of one kind of call. */
export interface SandboxCallCount {
  protocol: OdooProtocol;
  service: string;
  method: string;
  model?: string;
  modelMethod?: string;
  count: number;
}

interface ActiveRule {
  rule: SandboxFaultRule;
  remaining: number;
  triggered: number;
}

/** The failures that apply to one call. */
export interface FaultDecision {
  latencyMs: number;
  /** The failing rule, if any (latency rules never fail a call). */
  failure?: SandboxFaultRule;
}

export const BC_MODEL_NAME = 'dimagaz.bc';
const LINE_MODEL_NAME = 'dimagaz.bc.line';

export class SandboxFaults {
  private rules: ActiveRule[] = [];
  private readonly counts = new Map<string, SandboxCallCount>();
  private timed: SandboxTimedCall[] = [];
  private inFlight = 0;
  private mostInFlight = 0;
  private waiters: Array<{ filter: SandboxCallFilter; resolve: (call: SandboxCallInfo) => void }> =
    [];
  private random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  inject(rule: SandboxFaultRule): SandboxFaultHandle {
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      throw new RangeError('probability must be between 0 and 1');
    }
    const active: ActiveRule = {
      rule: { ...rule },
      remaining: rule.times ?? (rule.probability === undefined ? 1 : Infinity),
      triggered: 0,
    };
    this.rules.push(active);
    return {
      get triggered() {
        return active.triggered;
      },
      remove: () => {
        this.rules = this.rules.filter((candidate) => candidate !== active);
      },
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** Rules that apply before the call runs: everything but result-based record rules. */
  beforeCall(call: SandboxCallInfo): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const active of this.rules) {
      const { rule } = active;
      if (!this.matchesCall(rule, call)) continue;
      if (rule.recordId !== undefined && !this.touchesIds(rule, call)) continue;
      if (rule.kind !== 'latency' && decision.failure !== undefined) continue;
      if (!this.fire(active)) continue;
      if (rule.kind === 'latency') decision.latencyMs += rule.latencyMs ?? 0;
      else decision.failure = rule;
    }
    return decision;
  }

  /** Record rules that look at what a read returned. */
  afterCall(call: SandboxCallInfo, result: unknown): SandboxFaultRule | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.recordId === undefined || rule.kind === 'latency' || !this.matchesCall(rule, call))
        continue;
      if (!this.resultTouches(rule, call, result)) continue;
      if (this.fire(active)) return rule;
    }
    return undefined;
  }

  /** Resolves with the next call that matches `filter` (tests await this instead of sleeping). */
  nextCall(filter: SandboxCallFilter = {}): Promise<SandboxCallInfo> {
    return new Promise((resolve) => this.waiters.push({ filter, resolve }));
  }

  count(call: SandboxCallInfo): void {
    if (this.timed.length >= TIMED_CALLS_KEPT) this.timed = this.timed.slice(TIMED_CALLS_KEPT / 2);
    this.timed.push({ ...call, atMs: Date.now() });
    if (this.waiters.length > 0) {
      const matched = this.waiters.filter((waiter) => matchesFilter(waiter.filter, call));
      this.waiters = this.waiters.filter((waiter) => !matched.includes(waiter));
      for (const waiter of matched) waiter.resolve({ ...call });
    }
    const key = `${call.protocol}|${call.service}|${call.method}|${call.model ?? ''}|${call.modelMethod ?? ''}`;
    const entry = this.counts.get(key);
    if (entry !== undefined) {
      entry.count++;
      return;
    }
    const count: SandboxCallCount = {
      protocol: call.protocol,
      service: call.service,
      method: call.method,
      count: 1,
    };
    if (call.model !== undefined) count.model = call.model;
    if (call.modelMethod !== undefined) count.modelMethod = call.modelMethod;
    this.counts.set(key, count);
  }

  countCalls(filter: SandboxCallFilter = {}): number {
    let total = 0;
    for (const entry of this.counts.values())
      if (matchesFilter(filter, entry)) total += entry.count;
    return total;
  }

  calls(): SandboxCallCount[] {
    return [...this.counts.values()].map((entry) => ({ ...entry }));
  }

  /** The latest calls with the time each was received, oldest first. */
  timedCalls(): SandboxTimedCall[] {
    return this.timed.map((entry) => ({ ...entry }));
  }

  /**
   * A request arrived; the function returned is called once its answer is handed to the socket
   * (or the connection closed first). Until then it is in flight.
   */
  begin(): () => void {
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
    };
  }

  /** The most requests in flight at once since the counts were last reset. */
  mostRequestsInFlight(): number {
    return this.mostInFlight;
  }

  resetCounts(): void {
    this.counts.clear();
    this.timed = [];
    this.mostInFlight = this.inFlight;
  }

  private fire(active: ActiveRule): boolean {
    if (active.remaining <= 0) return false;
    if (active.rule.probability !== undefined && this.random() >= active.rule.probability)
      return false;
    active.remaining--;
    active.triggered++;
    if (active.remaining <= 0) this.rules = this.rules.filter((candidate) => candidate !== active);
    return true;
  }

  private matchesCall(rule: SandboxFaultRule, call: SandboxCallInfo): boolean {
    if (rule.protocol !== undefined && rule.protocol !== call.protocol) return false;
    if (rule.service !== undefined && rule.service !== call.service) return false;
    if (rule.method !== undefined && !methodMatches(rule.method, call)) return false;
    if (rule.recordId !== undefined) {
      const model = rule.model ?? BC_MODEL_NAME;
      const linesToo =
        rule.includeLines === true && model === BC_MODEL_NAME && call.model === LINE_MODEL_NAME;
      return call.model === model || linesToo;
    }
    if (rule.model !== undefined && rule.model !== call.model) return false;
    return true;
  }

  private touchesIds(rule: SandboxFaultRule, call: SandboxCallInfo): boolean {
    return (
      call.model === (rule.model ?? BC_MODEL_NAME) &&
      (call.ids?.includes(rule.recordId as number) ?? false)
    );
  }

  private resultTouches(rule: SandboxFaultRule, call: SandboxCallInfo, result: unknown): boolean {
    const id = rule.recordId as number;
    const onLines =
      call.model === LINE_MODEL_NAME && (rule.model ?? BC_MODEL_NAME) === BC_MODEL_NAME;
    if (result instanceof RecordList) {
      return onLines ? (result.parentIds?.includes(id) ?? false) : result.ids.includes(id);
    }
    if (!Array.isArray(result)) return false;
    for (const item of result as unknown[]) {
      if (onLines) {
        const bc = (item as { bc_id?: unknown } | null)?.bc_id;
        if (bc === id || (Array.isArray(bc) && bc[0] === id)) return true;
      } else if (item === id || (item as { id?: unknown } | null)?.id === id) {
        return true;
      }
    }
    return false;
  }
}

function matchesFilter(
  filter: SandboxCallFilter,
  call: { protocol: string; service: string; method: string; model?: string; modelMethod?: string },
): boolean {
  if (filter.protocol !== undefined && call.protocol !== filter.protocol) return false;
  if (filter.service !== undefined && call.service !== filter.service) return false;
  if (filter.model !== undefined && call.model !== filter.model) return false;
  return filter.method === undefined || methodMatches(filter.method, call);
}

/**
 * Whether a call is the method a rule or a filter names: its RPC method or its model method;
 * `read` also names `web_read`, which reads its records with `read`: what breaks the one breaks
 * the other, and either is a read of those records.
 */
function methodMatches(method: string, call: { method: string; modelMethod?: string }): boolean {
  return (
    call.method === method ||
    call.modelMethod === method ||
    (method === 'read' && call.modelMethod === 'web_read')
  );
}

/** The calls a database (or the server, for those that reach none) received, and its fault rules. */
export interface SandboxCallLog {
  injectFault(rule: SandboxFaultRule): SandboxFaultHandle;
  clearFaults(): void;
  /** Calls seen so far matching the filter (`method` matches the RPC or the model method: methodMatches). */
  countCalls(filter?: SandboxCallFilter): number;
  /** Resolves when the sandbox receives the next call matching `filter` (before it answers). */
  waitForCall(filter?: SandboxCallFilter): Promise<SandboxCallInfo>;
  calls(): SandboxCallCount[];
  /** The latest calls (up to 100,000) with when each was received, oldest first. */
  timedCalls(): SandboxTimedCall[];
  /** The most requests the sandbox was answering at once (arrived, not yet answered). */
  mostRequestsInFlight(): number;
  /** Clears the counts, the timed calls and the most requests in flight. */
  resetCalls(): void;
}

export function callLogOf(faults: SandboxFaults): SandboxCallLog {
  return {
    injectFault: (rule) => faults.inject(rule),
    clearFaults: () => faults.clear(),
    countCalls: (filter) => faults.countCalls(filter),
    waitForCall: (filter) => faults.nextCall(filter),
    calls: () => faults.calls(),
    timedCalls: () => faults.timedCalls(),
    mostRequestsInFlight: () => faults.mostRequestsInFlight(),
    resetCalls: () => faults.resetCounts(),
  };
}

/** A small seeded PRNG: reproducible fault patterns and data. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
