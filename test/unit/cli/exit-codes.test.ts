import { CliError, describeFailure, EXIT } from '../../../cli/exit-codes';
import { ConflictError, PermanentError, TransientError } from '../../../shared/errors';
import { SecretNotFoundError } from '../../../shared/secrets/errors';

describe('describeFailure', () => {
  it.each<[string, unknown, number]>([
    ['a CLI error keeps its code', new CliError('bad', EXIT.usage), EXIT.usage],
    ['an unknown secret', new SecretNotFoundError('getSecret x: not found'), EXIT.notFound],
    ['Secret Manager unavailable', new TransientError('getSecret x: unavailable'), EXIT.transient],
    ['a concurrent write', new ConflictError('etag mismatch'), EXIT.transient],
    ['permission denied', new PermanentError('getSecret x: permission denied'), EXIT.notOk],
    ['anything else', new Error('boom'), EXIT.notOk],
  ])('%s', (_what, err, code) => {
    expect(describeFailure(err).exitCode).toBe(code);
  });

  it('tells the operator a transient failure is worth retrying', () => {
    expect(describeFailure(new TransientError('publish failed')).message).toBe(
      'publish failed (transient: try again)',
    );
  });
});

describe('describeFailure: configuration and the local stack', () => {
  // google-auth-library's text when no Application Default Credentials exist, wrapped as the
  // secret store wraps every gax error (a TransientError with the driver error as cause).
  const noAdc = new TransientError(
    'listSecrets projects/p: Could not load the default credentials.',
    {
      cause: new Error(
        'Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.',
      ),
    },
  );

  it('reports missing Google credentials as a configuration error (2) with the gcloud hint, not as transient', () => {
    const { exitCode, message } = describeFailure(noAdc);
    expect(exitCode).toBe(EXIT.usage);
    expect(message).toContain('gcloud auth application-default login');
    expect(message).not.toContain('transient');
  });

  it('reports an expired login (invalid_grant) the same way', () => {
    const expired = new PermanentError('getSecret x: invalid_grant', {
      cause: Object.assign(new Error('invalid_grant'), { code: 400 }),
    });
    expect(describeFailure(expired)).toMatchObject({ exitCode: EXIT.usage });
  });

  it('names the emulator address it tried and `npm start` when the local stack is down', () => {
    // The exact text grpc-js gives when nothing listens.
    const down = new TransientError(
      'listSecrets projects/gsm-rotator-local: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:9090. Resolution note: ',
    );
    const { exitCode, message } = describeFailure(down, {
      SECRET_MANAGER_EMULATOR_HOST: '127.0.0.1:9090',
      PUBSUB_EMULATOR_HOST: '127.0.0.1:9091',
    });
    expect(exitCode).toBe(EXIT.transient);
    expect(message).toBe(
      'cannot reach the Secret Manager emulator at 127.0.0.1:9090 (SECRET_MANAGER_EMULATOR_HOST): is the local stack running? Start it with `npm start` in another terminal, or unset the emulator variables to use Google Cloud (transient: try again)',
    );
    expect(message).not.toContain('Resolution note');
  });

  it('drops an empty gRPC "Resolution note:" when no emulator is involved', () => {
    const down = new TransientError(
      'getSecret x: No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.1:443. Resolution note: ',
    );
    const { message } = describeFailure(down, {});
    expect(message).toBe(
      'getSecret x: No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.1:443 (transient: try again)',
    );
  });
});
