import { z } from 'zod';
import { SecretNameSchema } from '../config/rotation-config';
import type { Trigger } from '../rotation/state';
import { formatIssues } from '../zod-issues';
import { type DecodedMessage, InvalidEventError } from './pubsub-cloud-event';

/**
 * What arrives on the secret-events topic, reduced to what rotateSecret acts on:
 * - Secret Manager's own notifications (attribute `eventType`, `secretId`, `timestamp`);
 *   only SECRET_ROTATE starts a rotation, every other type (many caused by our own writes) is
 *   acknowledged and ignored;
 * - on-demand requests: attribute `eventType=ROTATION_REQUESTED` and a JSON body.
 */
export const ON_DEMAND_EVENT_TYPE = 'ROTATION_REQUESTED';
export const SECRET_ROTATE = 'SECRET_ROTATE';

export const OnDemandRequestBodySchema = z.object({
  secret: SecretNameSchema,
  reason: z.string().max(500).optional(),
  /**
   * Who the publisher says asked: a claim, recorded and shown as such, never used for a decision
   * (the trustworthy record of who published is Cloud Audit Logs).
   */
  requestedBy: z.string().max(200).optional(),
  /**
   * A leaked credential: rotate now, ignoring the grace window of `previous`, then revoke
   * `previous` at once and end its live sessions (docs/operations.md, the leak runbook).
   */
  emergency: z.boolean().optional(),
  /** Optional idempotency key chosen by the requester; defaults to the Pub/Sub message id. */
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/)
    .optional(),
});
export type OnDemandRequestBody = z.output<typeof OnDemandRequestBodySchema>;

const NotificationAttributesSchema = z
  .object({
    eventType: z.string().min(1),
    secretId: SecretNameSchema.optional(),
    timestamp: z.string().optional(),
    dataFormat: z.string().optional(),
    versionId: z.string().optional(),
  })
  .loose();

export interface RotationRequest {
  secret: string;
  trigger: Trigger;
  /** Identity of the request: duplicates of one request share it. */
  requestKey: string;
  /** When it was requested (ms); requests older than the last rotation's start are stale. */
  requestedAt: number;
  /** A claim by the publisher (see OnDemandRequestBodySchema); never used for a decision. */
  requestedBy?: string;
  reason?: string;
  /** On-demand only: the leak runbook's rotation (no grace, sessions ended). */
  emergency?: boolean;
}

export type ClassifiedMessage =
  | { kind: 'rotate'; request: RotationRequest }
  | { kind: 'ignore'; eventType: string; secret?: string };

/**
 * When the message was delivered: Pub/Sub's publish time (set by the service, not the publisher),
 * never later than this worker's clock. A request cannot have been made after it was published.
 */
function deliveryTime(msg: DecodedMessage, now: number): number {
  return Math.min(msg.publishTime ?? now, now);
}

export function classifyMessage(msg: DecodedMessage, now: number): ClassifiedMessage {
  const attrs = NotificationAttributesSchema.safeParse(msg.attributes);
  if (!attrs.success) {
    throw new InvalidEventError('message has no valid eventType/secretId attributes');
  }
  const { eventType, secretId, timestamp } = attrs.data;

  if (eventType === ON_DEMAND_EVENT_TYPE) {
    let json: unknown;
    try {
      json = JSON.parse(msg.body);
    } catch {
      throw new InvalidEventError('on-demand request body is not JSON');
    }
    const body = OnDemandRequestBodySchema.safeParse(json);
    if (!body.success) {
      throw new InvalidEventError(`invalid on-demand request: ${formatIssues(body.error, 1)}`);
    }
    if (secretId && secretId !== body.data.secret) {
      throw new InvalidEventError('on-demand request: secretId attribute and body disagree');
    }
    return {
      kind: 'rotate',
      request: {
        secret: body.data.secret,
        trigger: 'on-demand',
        requestKey: `on-demand:${body.data.requestId ?? msg.messageId}`,
        requestedAt: deliveryTime(msg, now),
        ...(body.data.requestedBy ? { requestedBy: body.data.requestedBy } : {}),
        ...(body.data.reason ? { reason: body.data.reason } : {}),
        ...(body.data.emergency ? { emergency: true } : {}),
      },
    };
  }

  if (eventType !== SECRET_ROTATE)
    return { kind: 'ignore', eventType, ...(secretId ? { secret: secretId } : {}) };
  if (!secretId) throw new InvalidEventError('SECRET_ROTATE without secretId');
  // Secret Manager's own timestamp survives its publish retries (which get new message ids). It is
  // an attribute anyone with publish rights can set: never later than the delivery itself.
  const at = timestamp ? Date.parse(timestamp) : Number.NaN;
  const delivered = deliveryTime(msg, now);
  const requestedAt = Number.isFinite(at) ? Math.min(at, delivered) : delivered;
  return {
    kind: 'rotate',
    request: {
      secret: secretId,
      trigger: 'schedule',
      requestKey: `schedule:${timestamp ?? msg.messageId}`,
      requestedAt,
      requestedBy: 'rotation-schedule',
    },
  };
}
