import { payloadField } from './payload-fields';
import type { Applied, TargetContext } from './target-context';
import type { UcConnectionTarget } from './targets';

/**
 * Updates the mapped options of a Unity Catalog connection. The update replaces the options, so
 * the connection's current (non-sensitive) options are read first and kept.
 */
export async function applyUcConnection(
  target: UcConnectionTarget,
  ctx: TargetContext,
): Promise<Applied> {
  const payload = await ctx.payload();
  const updates: Record<string, string> = {};
  for (const [option, field] of Object.entries(target.options)) {
    const value = payloadField(payload, field);
    ctx.redactor.add(value);
    updates[option] = value;
  }
  const connection = await ctx.client.getConnection(target.name);
  await ctx.client.updateConnectionOptions(target.name, { ...connection.options, ...updates });
  return { status: 'done', reason: `updated ${Object.keys(updates).sort().join(', ')}` };
}
