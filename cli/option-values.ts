import { parseDuration } from '../shared/config/duration';
import { usageError } from './exit-codes';

/** A duration option (`90s`, `5m`, `24h`, `7d`, or seconds), or exit 2 naming the option. */
export function durationOption(option: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw usageError(`${option}: not a duration (e.g. 90s, 5m, 24h, 7d): ${text}`);
  }
  return ms;
}

export function positiveIntOption(option: string, text: string): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1) {
    throw usageError(`${option}: not a positive whole number: ${text}`);
  }
  return Number(text);
}

/** The functions' ROTATOR_OVERDUE_MARGIN when set, so the CLI judges as retireVersions does. */
export const OVERDUE_MARGIN_VARIABLE = 'ROTATOR_OVERDUE_MARGIN';
export const DEFAULT_OVERDUE_MARGIN = '1h';

export function overdueMargin(option: string | undefined, env: NodeJS.ProcessEnv): number {
  if (option !== undefined) return durationOption('--overdue-margin', option);
  const fromEnv = env[OVERDUE_MARGIN_VARIABLE];
  return durationOption(OVERDUE_MARGIN_VARIABLE, fromEnv || DEFAULT_OVERDUE_MARGIN);
}

/** `check` fails for a pause older than this ($ROTATOR_MAX_PAUSE_AGE, default 7d). */
export const MAX_PAUSE_AGE_VARIABLE = 'ROTATOR_MAX_PAUSE_AGE';
export const DEFAULT_MAX_PAUSE_AGE = '7d';

export function maxPauseAge(option: string | undefined, env: NodeJS.ProcessEnv): number {
  if (option !== undefined) return durationOption('--max-pause-age', option);
  const fromEnv = env[MAX_PAUSE_AGE_VARIABLE];
  return durationOption(MAX_PAUSE_AGE_VARIABLE, fromEnv || DEFAULT_MAX_PAUSE_AGE);
}
