import { captureStdout } from '../../../devtools/cloud-event-http';
import { pubsubCloudEvent, secretNotification } from '../../../devtools/events';
import { makeRotateSecret } from '../../../functions/rotate-secret';
import {
  ConflictError,
  PermanentError,
  ReportedTransientError,
  RetryLaterError,
  RotatorError,
  ThrottledError,
  TransientError,
} from '../../../shared/errors';
import { InvalidEventError } from '../../../shared/events/pubsub-cloud-event';
import { createLogger, memorySink } from '../../../shared/logging/logger';
import { withErrorBoundary } from '../../../shared/runtime/cloud-event-handler';
import { productionDeps } from '../../../shared/runtime/deps';
import { SettingsError } from '../../../shared/runtime/settings';

const event = () =>
  pubsubCloudEvent(secretNotification('SECRET_VERSION_ADD', 'projects/p/secrets/s'));

/** One delivery through the boundary: what it answered and the lines it logged. */
async function deliver(thrown: unknown) {
  const sink = memorySink();
  const handler = withErrorBoundary(
    'rotateSecret',
    () => createLogger({ sink, minSeverity: 'DEBUG' }),
    async () => {
      throw thrown;
    },
  );
  const answer = await handler(event()).then(
    () => 'ack' as const,
    () => 'redeliver' as const,
  );
  return { answer, entries: sink.entries() };
}

describe('the error boundary decides by class', () => {
  it.each([
    ['InvalidEventError', 'ack', 'WARNING', 'event.invalid', new InvalidEventError('bad')],
    ['PermanentError', 'ack', 'ERROR', 'event.rejected', new PermanentError('no such secret')],
    [
      'SettingsError',
      'redeliver',
      'ERROR',
      'function.misconfigured',
      new SettingsError('x', ['X']),
    ],
    ['RetryLaterError', 'redeliver', 'INFO', 'event.retry-later', new RetryLaterError('busy')],
    ['ThrottledError', 'redeliver', 'INFO', 'event.throttled', new ThrottledError('quota')],
    ['TransientError', 'redeliver', 'WARNING', 'event.retry', new TransientError('db down')],
    ['ConflictError', 'redeliver', 'WARNING', 'event.retry', new ConflictError('etag')],
    ['a RotatorError of no kind', 'redeliver', 'ERROR', 'event.unexpected', new RotatorError('?')],
    ['a plain Error (a bug)', 'redeliver', 'ERROR', 'event.unexpected', new TypeError('x')],
  ] as const)('%s: %s, one %s line %s', async (_name, answer, severity, eventName, thrown) => {
    // Act
    const r = await deliver(thrown);
    // Assess
    expect(r.answer).toBe(answer);
    expect(r.entries).toHaveLength(1);
    expect(r.entries[0]).toMatchObject({ severity, event: eventName });
  });

  it('ReportedTransientError (the thrower logged the attempt): redeliver, no second line, one short stderr line', async () => {
    // Act
    const sink = memorySink();
    const handler = withErrorBoundary(
      'rotateSecret',
      () => createLogger({ sink, minSeverity: 'DEBUG' }),
      async () => {
        throw new ReportedTransientError('postgres: connect failed: connect ECONNREFUSED');
      },
    );
    const thrown = await handler(event()).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    // Assess
    expect(sink.entries()).toEqual([]);
    expect(thrown?.message).toBe(
      'redelivery requested: postgres: connect failed: connect ECONNREFUSED',
    );
    expect(thrown?.stack).toBe(thrown?.message);
  });

  it('every class the boundary knows is a RotatorError', () => {
    for (const e of [
      new InvalidEventError('x'),
      new SettingsError('x', []),
      new RetryLaterError('x'),
      new ReportedTransientError('x'),
      new ConflictError('x'),
    ]) {
      expect(e).toBeInstanceOf(RotatorError);
    }
  });
});

describe('a bad deployment setting', () => {
  const stdout = captureStdout();
  afterAll(() => stdout.restore());

  const linesOf = (from: number) =>
    stdout.lines.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);

  it('logs one structured ERROR naming the setting, never its value, on every event; redelivered', async () => {
    // Prepare: values that could be secrets pasted into the wrong variable.
    const env = {
      GCP_PROJECT: 'p',
      ROTATOR_LEASE_SECONDS: 'hunter2-Leaked-Value',
      ROTATOR_OVERDUE_MARGIN: 's3cret-Other-Value',
    };
    const rotateSecret = makeRotateSecret(productionDeps(env));
    for (let delivery = 1; delivery <= 2; delivery++) {
      const from = stdout.lines.length;
      // Act
      await expect(rotateSecret(event())).rejects.toThrow(/redelivery requested/);
      // Assess
      const entries = linesOf(from);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        severity: 'ERROR',
        event: 'function.misconfigured',
        settings: ['ROTATOR_LEASE_SECONDS', 'ROTATOR_OVERDUE_MARGIN'],
        'logging.googleapis.com/labels': { function: 'rotateSecret' },
      });
      expect(stdout.lines.slice(from).join('\n')).not.toMatch(/hunter2|s3cret/);
    }
  });

  it('a missing project names the variables too', async () => {
    const from = stdout.lines.length;
    await expect(makeRotateSecret(productionDeps({}))(event())).rejects.toThrow();
    expect(linesOf(from)).toEqual([
      expect.objectContaining({
        severity: 'ERROR',
        settings: ['GCP_PROJECT', 'ROTATION_EVENTS_TOPIC'],
      }),
    ]);
  });

  it('once the deployment is fixed, the redelivered event is processed', async () => {
    const e = event();
    await expect(
      makeRotateSecret(productionDeps({ ROTATOR_LEASE_SECONDS: 'x' }))(e),
    ).rejects.toThrow();
    await expect(
      makeRotateSecret(productionDeps({ GCP_PROJECT: 'p', ROTATOR_LEASE_SECONDS: '600' }))(e),
    ).resolves.toBeUndefined();
  });
});
