import { runCli } from '../../../cli/run-cli';
import { offlineDeps } from './cli-io';

describe('pause, resume and check --max-pause-age: usage errors before any call', () => {
  it('pause needs --reason', async () => {
    const io = offlineDeps();
    expect(await runCli(['pause', 'orders-db'], io.deps)).toBe(2);
    expect(io.stderr()).toMatch(/required option '--reason <text>' not specified/);
  });

  it('pause refuses an over-long reason, naming the option', async () => {
    const io = offlineDeps();
    expect(await runCli(['pause', 'orders-db', '--reason', 'x'.repeat(501)], io.deps)).toBe(2);
    expect(io.stderr()).toMatch(/^error: --reason: /m);
  });

  it('check reads a bad ROTATOR_MAX_PAUSE_AGE as a usage error naming the variable', async () => {
    const io = offlineDeps({ GCP_PROJECT: 'demo-project', ROTATOR_MAX_PAUSE_AGE: 'forever' });
    expect(await runCli(['check', 'orders-db'], io.deps)).toBe(2);
    expect(io.stderr()).toMatch(/ROTATOR_MAX_PAUSE_AGE: not a duration/);
  });

  it('lists pause and resume in the help', async () => {
    const io = offlineDeps();
    expect(await runCli(['--help'], io.deps)).toBe(0);
    expect(io.stdout()).toMatch(/pause \[options\] <secret>/);
    expect(io.stdout()).toMatch(/resume <secret>/);
  });
});
