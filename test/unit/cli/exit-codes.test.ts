import { CliError, describeFailure, EXIT } from '../../../cli/exit-codes';
import { ConflictError, PermanentError, TransientError } from '../../../shared/errors';
import { SecretNotFoundError } from '../../../shared/secrets/secret-store';

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
