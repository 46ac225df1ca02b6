import { MANAGED_FILTER } from '../../shared/config/annotations';
import { describeError } from '../../shared/errors';
import { checkOverdue } from '../../shared/retirement/overdue';
import type { RetireAction } from '../../shared/retirement/plan';
import { planSecret } from '../../shared/retirement/retire-secret';
import type { SecretSnapshot } from '../../shared/secrets/secret-store';
import type { CommandContext } from '../context';
import { EXIT, type ExitCode, usageError } from '../exit-codes';
import { findSecret } from '../find-secret';
import { formatTime, isoTime } from '../output';
import { displayName, parentsOf } from '../scope';

/** What the next retire tick would do to one secret (also the `--json` shape). */
export interface SecretRetirePreview {
  secret: string;
  actions: RetireAction[];
  waiting: string | null;
  skipped: string | null;
  overdue: { reason: string; expectedAt: string | null } | null;
  /** The secret could not be planned (invalid config, unreadable versions). */
  error: string | null;
}

/**
 * `retire --dry-run [SECRET]`: the retireVersions plan of every managed secret (or one), computed
 * by the same planSecret the function runs, plus the overdue reports it would log. Nothing is
 * changed. Exit 1 when a secret is overdue or cannot be planned.
 */
export async function runRetireDryRun(
  ctx: CommandContext,
  ref: string | undefined,
  dryRun: boolean,
  overdueMarginMs: number,
): Promise<ExitCode> {
  if (!dryRun) {
    throw usageError(
      'retire only previews: add --dry-run (retirement itself runs in the retireVersions function on its tick)',
    );
  }
  const { store, clock } = ctx.deps;
  const snapshots: SecretSnapshot[] =
    ref === undefined
      ? (
          await Promise.all(parentsOf(ctx.scope).map((p) => store.listSecrets(p, MANAGED_FILTER)))
        ).flat()
      : [await findSecret(store, ref, ctx.scope)];
  const now = clock.now();
  const previews: SecretRetirePreview[] = [];
  for (const snapshot of snapshots) {
    const o = checkOverdue(snapshot, now, overdueMarginMs);
    const overdue = o.overdue ? { reason: o.reason, expectedAt: isoTime(o.expectedAt) } : null;
    try {
      const { plan } = await planSecret(snapshot, { store, clock });
      previews.push({
        secret: snapshot.name,
        actions: plan.actions,
        waiting: plan.waiting ?? null,
        skipped: plan.skipped ?? null,
        overdue,
        error: null,
      });
    } catch (err) {
      previews.push({
        secret: snapshot.name,
        actions: [],
        waiting: null,
        skipped: null,
        overdue,
        error: describeError(err).message,
      });
    }
  }
  const ok = previews.every((p) => p.overdue === null && p.error === null);

  if (ctx.out.json) {
    ctx.out.document({ dryRun: true, ok, secrets: previews });
  } else if (previews.length === 0) {
    ctx.out.line(
      `no managed secrets (filter ${MANAGED_FILTER}) in ${parentsOf(ctx.scope).join(', ')}`,
    );
  } else {
    ctx.out.line('dry run: what the next retire tick would do (nothing is changed)');
    ctx.out.table(
      previews.flatMap((p) =>
        rows(p).map((r) => ({ secret: displayName(p.secret, ctx.scope), ...r })),
      ),
      [
        { key: 'secret', header: 'SECRET' },
        { key: 'action', header: 'ACTION' },
        { key: 'version', header: 'VERSION' },
        { key: 'detail', header: 'DETAIL' },
      ],
    );
  }
  return ok ? EXIT.ok : EXIT.notOk;
}

type PreviewRow = { action: string; version: string; detail: string };

function rows(p: SecretRetirePreview): PreviewRow[] {
  const out: PreviewRow[] = [];
  if (p.overdue) {
    const expected = p.overdue.expectedAt
      ? ` (expected ${formatTime(Date.parse(p.overdue.expectedAt))})`
      : '';
    out.push({ action: 'OVERDUE (ERROR)', version: '', detail: `${p.overdue.reason}${expected}` });
  }
  if (p.error) out.push({ action: 'cannot plan', version: '', detail: p.error });
  for (const a of p.actions) out.push(actionRow(a));
  if (p.skipped) out.push({ action: 'skip', version: '', detail: p.skipped });
  if (p.waiting) out.push({ action: 'keep previous', version: '', detail: p.waiting });
  if (out.length === 0) out.push({ action: 'nothing to do', version: '', detail: '' });
  return out;
}

function actionRow(a: RetireAction): PreviewRow {
  switch (a.kind) {
    case 'retire-previous':
      return {
        action: 'retire previous',
        version: String(a.version),
        detail: a.forced
          ? `maximum grace reached; never confirmed: ${a.unconfirmed.join(', ')} (WARNING)`
          : 'revoke the old credential where the strategy allows, then disable',
      };
    case 'disable-stale':
      return { action: 'disable', version: String(a.version), detail: 'superseded, no alias' };
    case 'destroy':
      return {
        action: 'destroy',
        version: String(a.version),
        detail: a.why === 'count' ? 'beyond the retention count' : 'older than the retention days',
      };
  }
}
