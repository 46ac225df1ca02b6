/** The changes Secret Manager announces on a secret's topics (secret-manager/docs/event-notifications). */
export const EVENT_TYPES = [
  'SECRET_CREATE',
  'SECRET_UPDATE',
  'SECRET_DELETE',
  'SECRET_VERSION_ADD',
  'SECRET_VERSION_ENABLE',
  'SECRET_VERSION_DISABLE',
  'SECRET_VERSION_DESTROY',
  'SECRET_VERSION_DESTROY_SCHEDULED',
  'SECRET_ROTATE',
  'TOPIC_CONFIGURED',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const DELETE_TYPES = ['REQUESTED', 'EXPIRATION'] as const;
export type DeleteType = (typeof DELETE_TYPES)[number];

/** One change, captured when it happened: the resource's proto3 JSON and the topics to tell. */
export interface SecretEvent {
  eventType: EventType;
  secretName: string;
  versionName?: string;
  deleteType?: DeleteType;
  topics: string[];
  /** Proto3 JSON of the Secret or SecretVersion; absent for TOPIC_CONFIGURED. */
  data?: Buffer;
  /** When it happened, ms since the epoch (from the emulator's clock). */
  at: number;
}
