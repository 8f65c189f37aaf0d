import { hex12 } from './scripts/window.js';
import { createTickQueue } from './tick-queue.js';

/** Calls admit.lua and hands its reply over as bytes: numkeys, keys…, args… */
export type AdmitCall = (...args: string[]) => Promise<unknown>;

/** One admission as admit.lua takes it: its keys and its three arguments (see the script's header). */
export interface AdmissionArgs {
  readonly keys: readonly string[];
  readonly numbers: string;
  readonly lease: string;
  readonly cost: string;
}

interface Pending extends AdmissionArgs {
  readonly resolve: (reply: number[]) => void;
  readonly reject: (error: unknown) => void;
}

/** Admissions per script call at most: each costs Redis ~20 µs, so a call stays around a millisecond. */
const MAX_BATCH = 64;

/**
 * The admissions asked for in one event-loop tick travel in one script call: ioredis builds one
 * command and Redis sets up one script run for all of them, where each used to pay its own (those
 * costs were most of a request's Redis overhead in the gateway). Each admission stays atomic and
 * sees the ones before it, exactly as separate calls in that order would. A request waits for the
 * tick to end, which it would have done anyway: ioredis writes commands at the end of the tick.
 * With `batched` false every admission is its own call (a batch of one), as benchmarks compare.
 */
export function createAdmitBatcher(admit: AdmitCall, batched = true) {
  const flush = (batch: Pending[]): void => {
    const keys: string[] = [];
    const args: string[] = [batch.length.toString(16)];
    for (const p of batch) {
      for (const k of p.keys) keys.push(k);
      args.push(p.numbers, p.lease, p.cost);
    }
    admit(String(keys.length), ...keys, ...args).then(
      (reply) => {
        const bytes = reply as Buffer;
        let at = 0;
        for (const p of batch) {
          const doubles = readReply(bytes, at);
          at += 8 * (doubles.length + 1);
          if (doubles.length > 0) p.resolve(doubles);
          else p.reject(new Error('admission batch: short reply'));
        }
      },
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  };
  if (!batched) {
    return async (args: AdmissionArgs): Promise<number[]> => {
      const reply = await admit(
        String(args.keys.length),
        ...args.keys,
        '1',
        args.numbers,
        args.lease,
        args.cost,
      );
      const doubles = readReply(reply as Buffer, 0);
      if (doubles.length === 0) throw new Error('admission: short reply');
      return doubles;
    };
  }
  const queue = createTickQueue(flush, MAX_BATCH);
  return (args: AdmissionArgs): Promise<number[]> =>
    new Promise((resolve, reject) => {
      queue.push({
        keys: args.keys,
        numbers: args.numbers,
        lease: args.lease,
        cost: args.cost,
        resolve,
        reject,
      });
    });
}

/** One admission's reply at byte `at`: its count of doubles, then the doubles. */
function readReply(bytes: Buffer, at: number): number[] {
  const n = at + 8 <= bytes.length ? bytes.readDoubleLE(at) : 0;
  if (!(n > 0) || at + 8 * (n + 1) > bytes.length) return [];
  const doubles: number[] = new Array(n);
  for (let i = 0; i < n; i++) doubles[i] = bytes.readDoubleLE(at + 8 + 8 * i);
  return doubles;
}

/** An admission's numbers (admit.lua): its key count, C, G and tokens; the subjects' limits follow. */
export function admissionHeader(keyCount: number, candidates: number, gates: number, tokens: number): string {
  return hex12(keyCount) + hex12(candidates) + hex12(gates) + hex12(tokens);
}
