import { status } from '@grpc/grpc-js';
import { AUTOMATIC, failure, lastSegment, nameOf, type Rig, startRig } from './harness';

describe('SM emulator: secrets', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig.stop());

  it('creates and gets a secret with the fields the client sends back', async () => {
    const [created] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'db-password_1',
      secret: { replication: AUTOMATIC, labels: { team: 'data' }, annotations: { Owner: 'x' } },
    });
    expect(created.name).toBe('projects/p/secrets/db-password_1');
    expect(created.replication?.automatic).toBeTruthy();
    expect(created.etag).toMatch(/^"[0-9a-f]+"$/);
    expect(typeof created.createTime?.seconds).toBe('string');
    const [got] = await rig.client.getSecret({ name: created.name });
    expect(got).toMatchObject({ name: created.name, labels: { team: 'data' }, etag: created.etag });
    expect(got.annotations).toEqual({ Owner: 'x' });
  });

  it('refuses a second secret with the same id: ALREADY_EXISTS', async () => {
    await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'dup',
      secret: { replication: AUTOMATIC },
    });
    const f = await failure(
      rig.client.createSecret({
        parent: 'projects/p',
        secretId: 'dup',
        secret: { replication: AUTOMATIC },
      }),
    );
    expect(f).toEqual({
      code: status.ALREADY_EXISTS,
      details: 'Secret [projects/p/secrets/dup] already exists.',
    });
  });

  it.each([
    ['a dot', 'with.dot'],
    ['a space', 'has space'],
    ['256 characters', 'x'.repeat(256)],
    ['a non-ASCII letter', 'caf\u00e9'],
  ])('refuses a secret id with %s: INVALID_ARGUMENT', async (_what, secretId) => {
    const f = await failure(
      rig.client.createSecret({
        parent: 'projects/p',
        secretId,
        secret: { replication: AUTOMATIC },
      }),
    );
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain('Secret ID');
  });

  it('takes a 255-character id of letters, digits, - and _', async () => {
    const secretId = `A-_9${'x'.repeat(251)}`;
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId,
      secret: { replication: AUTOMATIC },
    });
    expect(s.name).toBe(`projects/p/secrets/${secretId}`);
  });

  it('needs a replication policy for a global secret', async () => {
    const f = await failure(
      rig.client.createSecret({ parent: 'projects/p', secretId: 'norep', secret: {} }),
    );
    expect(f).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Secret.replication must be provided.',
    });
  });

  it('answers NOT_FOUND for a secret that does not exist, and INVALID_ARGUMENT for a bad name', async () => {
    expect(await failure(rig.client.getSecret({ name: 'projects/p/secrets/missing' }))).toEqual({
      code: status.NOT_FOUND,
      details: 'Secret [projects/p/secrets/missing] not found.',
    });
    expect(await failure(rig.client.getSecret({ name: 'projects/p/secret/x' }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Resource ID [projects/p/secret/x] is not in a valid format.',
    });
  });

  it('deletes a secret and its versions', async () => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'gone',
      secret: { replication: AUTOMATIC },
    });
    await rig.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('v1') } });
    await rig.client.deleteSecret({ name: s.name });
    expect((await failure(rig.client.getSecret({ name: s.name }))).code).toBe(status.NOT_FOUND);
    expect(
      (await failure(rig.client.accessSecretVersion({ name: `${s.name}/versions/1` }))).code,
    ).toBe(status.NOT_FOUND);
    expect((await failure(rig.client.deleteSecret({ name: s.name }))).code).toBe(status.NOT_FOUND);
  });

  it('updates only what the mask names, and requires a mask', async () => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'masked',
      secret: { replication: AUTOMATIC, labels: { a: '1' }, annotations: { keep: 'me' } },
    });
    const [u] = await rig.client.updateSecret({
      secret: { name: s.name, labels: { b: '2' }, annotations: { ignored: 'yes' } },
      updateMask: { paths: ['labels'] },
    });
    expect(u.labels).toEqual({ b: '2' });
    expect(u.annotations).toEqual({ keep: 'me' });
    // camelCase paths are taken too; a named field left out of the body is cleared.
    const [cleared] = await rig.client.updateSecret({
      secret: { name: s.name },
      updateMask: { paths: ['annotations'] },
    });
    expect(cleared.annotations).toEqual({});
    expect(
      await failure(rig.client.updateSecret({ secret: { name: s.name, labels: {} } })),
    ).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Field [update_mask] is required.',
    });
    for (const paths of [['labels.a'], ['*'], ['nope']]) {
      expect(
        await failure(rig.client.updateSecret({ secret: { name: s.name }, updateMask: { paths } })),
      ).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'Request contains an invalid argument.',
      });
    }
    expect(
      await failure(
        rig.client.updateSecret({
          secret: { name: s.name },
          updateMask: { paths: ['secret_type'] },
        }),
      ),
    ).toEqual({
      code: status.INVALID_ARGUMENT,
      details: "Field 'secret_type' is immutable and cannot be updated.",
    });
    const f = await failure(
      rig.client.updateSecret({
        secret: {
          name: s.name,
          replication: { userManaged: { replicas: [{ location: 'us-east1' }] } },
        },
        updateMask: { paths: ['replication'] },
      }),
    );
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain('Updating secret replication is not supported.');
  });

  it('sets an expiration from a ttl and refuses one under a minute away', async () => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'expiring',
      secret: { replication: AUTOMATIC, ttl: { seconds: 3600 } },
    });
    const expires = Number(s.expireTime?.seconds) - Number(s.createTime?.seconds);
    expect(expires).toBeGreaterThanOrEqual(3599);
    expect(expires).toBeLessThanOrEqual(3600);
    expect(
      await failure(
        rig.client.updateSecret({
          secret: { name: s.name, ttl: { seconds: 59 } },
          updateMask: { paths: ['ttl'] },
        }),
      ),
    ).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Expiration time must be at least [1m] in the future.',
    });
  });

  describe('list', () => {
    beforeAll(async () => {
      for (let i = 0; i < 7; i++) {
        await rig.client.createSecret({
          parent: 'projects/listing',
          secretId: `s${i}`,
          secret: {
            replication: AUTOMATIC,
            labels: {
              ...(i % 2 === 0 ? { rotator: 'managed' } : { rotator: 'off' }),
              ...(i === 3 ? { env: 'prod' } : {}),
            },
          },
        });
      }
    });

    it('lists by name, one project only, in pages', async () => {
      const [first, next, response] = await rig.client.listSecrets(
        { parent: 'projects/listing', pageSize: 3 },
        { autoPaginate: false },
      );
      expect(first.map((s) => s.name)).toEqual(
        ['s0', 's1', 's2'].map((id) => `projects/listing/secrets/${id}`),
      );
      expect(response.totalSize).toBe(7);
      expect(next?.pageToken).toBeTruthy();
      const [second] = await rig.client.listSecrets(
        { parent: 'projects/listing', pageSize: 3, pageToken: next?.pageToken ?? '' },
        { autoPaginate: false },
      );
      expect(second.map(lastSegment)).toEqual(['s3', 's4', 's5']);
      const names: string[] = [];
      let pageToken = '';
      do {
        const [page, nextRequest] = await rig.client.listSecrets(
          { parent: 'projects/listing', pageSize: 2, pageToken },
          { autoPaginate: false },
        );
        names.push(...page.map(nameOf));
        pageToken = nextRequest?.pageToken ?? '';
      } while (pageToken);
      expect(new Set(names).size).toBe(7);
      expect(
        (
          await failure(
            rig.client.listSecrets(
              { parent: 'projects/listing', pageToken: 'garbage' },
              { autoPaginate: false },
            ),
          )
        ).code,
      ).toBe(status.INVALID_ARGUMENT);
    });

    it('filters on labels: value, presence, NOT, OR, AND', async () => {
      const ids = async (filter: string) => {
        const [secrets] = await rig.client.listSecrets({ parent: 'projects/listing', filter });
        return secrets.map(lastSegment);
      };
      expect(await ids('labels.rotator=managed')).toEqual(['s0', 's2', 's4', 's6']);
      expect(await ids('labels.env:*')).toEqual(['s3']);
      expect(await ids('NOT labels.env:*')).toHaveLength(6);
      expect(await ids('labels.rotator=managed OR labels.env=prod')).toEqual([
        's0',
        's2',
        's3',
        's4',
        's6',
      ]);
      expect(await ids('labels.rotator=off AND name:s1')).toEqual(['s1']);
      expect(await ids('labels.rotator=off name:s5')).toEqual(['s5']);
      expect(await ids('create_time>2000-01-01T00:00:00Z')).toHaveLength(7);
      const f = await failure(
        rig.client.listSecrets({ parent: 'projects/listing', filter: 'colour=red' }),
      );
      expect(f.code).toBe(status.INVALID_ARGUMENT);
    });
    it('finds secrets by replication kind: an empty automatic policy is present', async () => {
      const parent = 'projects/replication-filter';
      await rig.client.createSecret({
        parent,
        secretId: 'auto',
        secret: { replication: AUTOMATIC },
      });
      await rig.client.createSecret({
        parent,
        secretId: 'managed',
        secret: {
          replication: { userManaged: { replicas: [{ location: 'europe-west3' }] } },
          labels: {},
        },
      });
      const ids = async (filter: string) => {
        const [secrets] = await rig.client.listSecrets({ parent, filter });
        return secrets.map(lastSegment);
      };
      // The filtering page's own example (secret-manager/docs/filtering).
      expect(await ids('replication.automatic:*')).toEqual(['auto']);
      expect(await ids('replication.user_managed:*')).toEqual(['managed']);
      expect(await ids('replication.user_managed.replicas.location:europe-west3')).toEqual([
        'managed',
      ]);
      expect(await ids('replication:*')).toEqual(['auto', 'managed']);
      expect(await ids('NOT replication.automatic:*')).toEqual(['managed']);
      // An empty map has nothing to be present.
      expect(await ids('labels:*')).toEqual([]);
    });
  });

  describe('regional secrets', () => {
    const parent = 'projects/p/locations/europe-west3';

    it('live under their location, have no replication, and list apart from global ones', async () => {
      const [s] = await rig.client.createSecret({
        parent,
        secretId: 'regional',
        secret: { labels: { r: '1' } },
      });
      expect(s.name).toBe(`${parent}/secrets/regional`);
      expect(s.replication).toBeNull();
      const [v] = await rig.client.addSecretVersion({
        parent: s.name,
        payload: { data: Buffer.from('r') },
      });
      expect(v.name).toBe(`${parent}/secrets/regional/versions/1`);
      expect(v.replicationStatus).toBeNull();
      const [access] = await rig.client.accessSecretVersion({ name: `${s.name}/versions/latest` });
      expect(access.payload?.data?.toString()).toBe('r');
      const [regional] = await rig.client.listSecrets({ parent });
      expect(regional.map((x) => x.name)).toEqual([s.name]);
      const [global] = await rig.client.listSecrets({ parent: 'projects/p' });
      expect(global.map((x) => x.name)).not.toContain(s.name);
      expect(
        (await failure(rig.client.getSecret({ name: 'projects/p/secrets/regional' }))).code,
      ).toBe(status.NOT_FOUND);
    });

    it('refuses a replication policy', async () => {
      expect(
        await failure(
          rig.client.createSecret({
            parent,
            secretId: 'withrep',
            secret: { replication: AUTOMATIC },
          }),
        ),
      ).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'Secret.replication should not be provided.',
      });
    });
  });

  it('keeps an IAM policy and fails open on permission tests', async () => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'iam',
      secret: { replication: AUTOMATIC },
    });
    const [empty] = await rig.client.getIamPolicy({ resource: s.name });
    expect(empty.bindings).toEqual([]);
    const binding = {
      role: 'roles/secretmanager.secretAccessor',
      members: ['serviceAccount:a@p.iam.gserviceaccount.com'],
    };
    await rig.client.setIamPolicy({ resource: s.name, policy: { bindings: [binding] } });
    const [policy] = await rig.client.getIamPolicy({ resource: s.name });
    expect(policy.bindings).toEqual([expect.objectContaining(binding)]);
    const [tested] = await rig.client.testIamPermissions({
      resource: s.name,
      permissions: ['secretmanager.versions.access'],
    });
    expect(tested.permissions).toEqual(['secretmanager.versions.access']);
  });
});
