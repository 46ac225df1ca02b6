import { z } from 'zod';
import { invalidArgument } from './errors';

/**
 * Resource names as Pub/Sub checks them: `projects/{project}/topics/{id}` and
 * `projects/{project}/subscriptions/{id}`, where an id starts with a letter, is 3–255 characters
 * of [A-Za-z0-9-_.~+%] and does not start with "goog".
 */
const ID = /^(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
const PROJECT = /^[^/]+$/;

/** What a subscription's topic becomes when its topic is deleted. */
export const DELETED_TOPIC = '_deleted-topic_';

const resourceName = (collection: 'topics' | 'subscriptions') =>
  z
    .string()
    .transform((name) => name.split('/'))
    .refine(
      (parts) =>
        parts.length === 4 &&
        parts[0] === 'projects' &&
        PROJECT.test(parts[1] ?? '') &&
        parts[2] === collection &&
        ID.test(parts[3] ?? ''),
    )
    .transform((parts) => ({ project: parts[1] as string, id: parts[3] as string }));

const topicName = resourceName('topics');
const subscriptionName = resourceName('subscriptions');
const projectName = z.string().regex(/^projects\/[^/]+$/);

export interface ParsedName {
  name: string;
  project: string;
  id: string;
}

export function parseTopicName(name: unknown): ParsedName {
  const parsed = topicName.safeParse(name);
  if (!parsed.success) throw invalidArgument(`Invalid [topics] name: (name=${String(name)})`);
  return { name: name as string, ...parsed.data };
}

export function parseSubscriptionName(name: unknown): ParsedName {
  const parsed = subscriptionName.safeParse(name);
  if (!parsed.success) {
    throw invalidArgument(`Invalid [subscriptions] name: (name=${String(name)})`);
  }
  return { name: name as string, ...parsed.data };
}

/** `projects/{project}` as List* requests carry it; returns the project id. */
export function parseProjectName(name: unknown): string {
  const parsed = projectName.safeParse(name);
  if (!parsed.success) throw invalidArgument(`Invalid [projects] name: (name=${String(name)})`);
  return parsed.data.slice('projects/'.length);
}
