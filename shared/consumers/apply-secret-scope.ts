import { payloadField } from './payload-fields';
import type { Applied, TargetContext } from './target-context';
import type { SecretScopeTarget } from './targets';

/** Writes the new value to the scope key, for jobs that read it with dbutils.secrets. */
export async function applySecretScope(
  target: SecretScopeTarget,
  ctx: TargetContext,
): Promise<Applied> {
  const payload = await ctx.payload();
  const value = target.field === 'password' ? payloadField(payload, 'password') : payload;
  ctx.redactor.add(value);
  await ctx.client.putSecret(target.scope, target.key, value);
  return {
    status: 'done',
    reason: `wrote the ${target.field === 'password' ? 'password' : 'payload'}`,
  };
}
