import { admissionHeader } from './admit-batcher.js';
import type { KeyLayout } from './keys.js';
import { limitArg } from './options.js';
import { pickArg } from './scripts/rank.js';
import { hex12 } from './scripts/window.js';
import type {
  Admission,
  AdmitRequest,
  BlockReason,
  ChargedAccount,
  Subject,
  SubjectState,
  Ticket,
  WindowState,
} from './types.js';

/**
 * The Redis store's side of admit.lua: one admission's arguments (see the script's header) and what
 * its reply means — a ticket, or a refusal with its reason.
 */

const BLOCK_REASONS: Readonly<Record<number, BlockReason>> = {
  1: 'gate_rpm',
  2: 'gate_tpm',
  3: 'gate_parallel',
  4: 'cooldown',
  5: 'no_capacity',
  6: 'account_missing',
  7: 'account_blocked',
  8: 'account_expired',
  9: 'account_budget',
};

/** What an admission's reply needs to become a ticket, kept with it in case the reply comes late. */
export interface AdmitContext {
  readonly request: AdmitRequest;
  readonly tokens: number;
  readonly charged: ChargedAccount[] | undefined;
}

/** admit.lua's arguments for one admission (see its header), and what its reply needs to become a ticket. */
export function admissionArgs(request: AdmitRequest, keys: KeyLayout) {
  const gates = request.gates ?? [];
  // The script walks gates first, then candidates, and stops at the first candidate with room.
  const subjects = gates.length === 0 ? request.candidates : [...gates, ...request.candidates];
  const tokens = Math.max(0, Math.ceil(request.tokens));
  const keyArgs: string[] = [];
  let costs = '';
  let charged: ChargedAccount[] | undefined;
  if (request.accounts && request.accounts.length > 0) {
    charged = [];
    for (const a of request.accounts) {
      keyArgs.push(keys.account(a.id));
      const cost = Number.isFinite(a.cost) ? Math.max(0, a.cost) : 0;
      // admit.lua's account argument: costs space-separated, '~' when the budget may not refuse.
      costs += `${costs === '' ? '' : ' '}${a.enforceBudget === false ? '~' : ''}${cost}`;
      charged.push({ id: a.id, cost, period: 0 });
    }
  }
  let parallel = false;
  let limits = '';
  let sliced = false;
  for (const s of subjects) {
    if (s.limits.slice) sliced = true;
    const k = keys.subject(s.id);
    keyArgs.push(k.window);
    if (limitArg(s.limits.maxParallel) > 0) {
      keyArgs.push(k.inflight);
      parallel = true;
    }
    limits += packedLimits(s);
  }
  const context: AdmitContext = { request, tokens, charged };
  // Numbers as 12 hex digits. Text, not bytes: one Buffer argument turns ioredis's whole command
  // into slower buffer encoding.
  const args = {
    keys: keyArgs,
    numbers:
      admissionHeader(keyArgs.length, request.candidates.length, gates.length, tokens) +
      limits +
      (sliced ? sliceSection(subjects) : '') +
      (request.pick && request.candidates.length > 1 ? pickArg(request.pick, request.candidates.length) : ''),
    lease: parallel ? request.leaseId : '',
    cost: costs,
    context,
  };
  return { args, context };
}

/** The ticket an admitted reply stands for. */
export function ticketOf(context: AdmitContext, reply: readonly number[]): Ticket {
  const { request, tokens, charged } = context;
  const gates = request.gates ?? [];
  const index = Number(reply[1] ?? 1) - 1;
  const reserved = gates.length === 0 ? [request.candidates[index]!] : [request.candidates[index]!, ...gates];
  // Per account, after the subjects' states: its spend after the reservation, its budget period.
  const at = 3 + 6 * reserved.length;
  const accounts = charged?.map((c, j) => ({ ...c, period: reply[at + 2 * j + 1] ?? 0 }));
  return {
    subjects: reserved,
    bucket: Number(reply[2] ?? 0),
    tokens,
    leaseId: request.leaseId,
    mode: 'shared',
    accounts,
  };
}

export function refusal(reply: readonly number[]): Admission {
  const reason = BLOCK_REASONS[reply[1] ?? 5] ?? 'no_capacity';
  const which = (reply[2] ?? 0) - 1;
  const onAccount = reason.startsWith('account_');
  return {
    admitted: false,
    reason,
    gateIndex: onAccount ? -1 : which,
    accountIndex: onAccount ? which : -1,
    retryAfterMs: Math.max(0, reply[3] ?? 0),
    spend: reply[4],
    limitValue: reply[5],
  };
}

const packed = new WeakMap<Subject, string>();

/** A subject's limits as admit.lua reads them: rpm, tpm, parallel. Cached: subjects are long-lived. */
function packedLimits(s: Subject): string {
  let p = packed.get(s);
  if (p === undefined) {
    p = hex12(limitArg(s.limits.rpm)) + hex12(limitArg(s.limits.tpm)) + hex12(limitArg(s.limits.maxParallel));
    packed.set(s, p);
  }
  return p;
}

export function parseStates(reply: readonly number[], reserved: readonly Subject[]): SubjectState[] {
  const states: SubjectState[] = [];
  for (let i = 0; i < reserved.length; i++) {
    const a = 3 + 6 * i;
    states.push({ requests: windowState(reply, a), tokens: windowState(reply, a + 3) });
  }
  return states;
}

function windowState(reply: readonly number[], at: number): WindowState | undefined {
  const limit = reply[at] ?? 0;
  if (limit <= 0) return undefined;
  return { limit, remaining: reply[at + 1] ?? 0, resetMs: Math.max(0, reply[at + 2] ?? 0) };
}

/** admit.lua's slice section: 'S', then every subject's slice limit (sliceArg) in order. */
function sliceSection(subjects: readonly Subject[]): string {
  let section = 'S';
  for (const s of subjects) section += hex12(sliceArg(s.limits.slice));
  return section;
}

/** A slice limit as one number: its length in ms (up to 2^24 − 1) × 2^24 + its requests (up to 2^24 − 1); 0 = none. */
function sliceArg(slice: Subject['limits']['slice']): number {
  if (!slice) return 0;
  const ms = Math.min(Math.max(10, Math.floor(slice.ms)), 2 ** 24 - 1);
  const max = Math.min(Math.max(1, Math.floor(slice.max)), 2 ** 24 - 1);
  return ms * 2 ** 24 + max;
}
