import { CliError, EXIT } from '../../../cli/exit-codes';
import { displayName, parentsOf, resolveScope, secretCandidates } from '../../../cli/scope';

describe('resolveScope', () => {
  it.each<[string, { project?: string }, NodeJS.ProcessEnv, string | undefined]>([
    ['--project wins', { project: 'flag-project' }, { GCP_PROJECT: 'env-project' }, 'flag-project'],
    [
      'GCP_PROJECT first',
      {},
      { GCP_PROJECT: 'gcp-project', GOOGLE_CLOUD_PROJECT: 'other-one' },
      'gcp-project',
    ],
    ['then GOOGLE_CLOUD_PROJECT', {}, { GOOGLE_CLOUD_PROJECT: 'google-proj' }, 'google-proj'],
    [
      'then CLOUDSDK_CORE_PROJECT',
      {},
      { GCP_PROJECT: '', CLOUDSDK_CORE_PROJECT: 'sdk-project' },
      'sdk-project',
    ],
    ['a project number', { project: '123456789012' }, {}, '123456789012'],
    ['none', {}, {}, undefined],
  ])('%s', (_what, options, env, project) => {
    expect(resolveScope(options, env).project).toBe(project);
  });
});

describe('secretCandidates', () => {
  const scope = { project: 'demo-project', locations: ['europe-west1', 'us-east1'] };

  it('tries the global secret, then each location, for a short id', () => {
    expect(secretCandidates('orders-db', scope)).toEqual([
      'projects/demo-project/secrets/orders-db',
      'projects/demo-project/locations/europe-west1/secrets/orders-db',
      'projects/demo-project/locations/us-east1/secrets/orders-db',
    ]);
  });

  it('takes a full name as it is, whatever the project', () => {
    expect(secretCandidates('projects/other/locations/asia-east1/secrets/x', scope)).toEqual([
      'projects/other/locations/asia-east1/secrets/x',
    ]);
    expect(secretCandidates('projects/other/secrets/x', { locations: [] })).toEqual([
      'projects/other/secrets/x',
    ]);
  });

  it('needs a project for a short id (usage error)', () => {
    let error: unknown;
    try {
      secretCandidates('orders-db', { locations: [] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.usage);
  });

  it('lists the parents and shortens global names of the project only', () => {
    expect(parentsOf(scope)).toEqual([
      'projects/demo-project',
      'projects/demo-project/locations/europe-west1',
      'projects/demo-project/locations/us-east1',
    ]);
    expect(displayName('projects/demo-project/secrets/orders-db', scope)).toBe('orders-db');
    expect(displayName('projects/other/secrets/orders-db', scope)).toBe(
      'projects/other/secrets/orders-db',
    );
    expect(displayName('projects/demo-project/locations/us-east1/secrets/a', scope)).toBe(
      'projects/demo-project/locations/us-east1/secrets/a',
    );
  });
});
