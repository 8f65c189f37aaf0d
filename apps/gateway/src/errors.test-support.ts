import { GatewayError } from './errors.js';

/** For tests: what the GatewayError thrown by `fn` says (fails when it throws nothing or something else). */
export function thrownError(fn: () => unknown): {
  status: number;
  code: string;
  param: string | null;
  message: string;
} {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayError)
      return { status: e.status, code: e.code, param: e.param, message: e.message };
    throw e;
  }
  throw new Error('expected a GatewayError');
}
