import { type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { PubSubError } from './errors';

/**
 * Adapts `(request) => response` to grpc-js's unary handler: a PubSubError becomes its status;
 * anything else is a bug in the stand-in and surfaces as INTERNAL with its message.
 */
export function unary<Req, Res>(
  handler: (request: Req) => Res,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    try {
      callback(null, handler(call.request));
    } catch (err) {
      callback(toStatus(err));
    }
  };
}

export function toStatus(err: unknown): { code: status; details: string } {
  if (err instanceof PubSubError) return { code: err.code, details: err.message };
  return { code: status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}
