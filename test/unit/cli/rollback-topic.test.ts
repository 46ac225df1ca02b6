import { rotationEventsTopic } from '../../../cli/commands/rollback';
import type { SecretSnapshot } from '../../../shared/secrets/secret-store';

const secret = (topics: string[]): SecretSnapshot => ({
  name: 'projects/p/secrets/orders-db',
  etag: '',
  labels: {},
  annotations: {},
  aliases: {},
  topics,
});

describe('rollback: the rotation-events topic refreshConsumers reads', () => {
  it("is derived from the deployment's secret-events topic the secret notifies", () => {
    expect(rotationEventsTopic(secret(['projects/p/topics/gsm-rotator-prod-secret-events']))).toBe(
      'projects/p/topics/gsm-rotator-prod-rotation-events',
    );
  });

  it('is --topic when given, and asked for when it cannot be derived (exit 2)', () => {
    expect(rotationEventsTopic(secret([]), 'projects/p/topics/x-rotation-events')).toBe(
      'projects/p/topics/x-rotation-events',
    );
    expect(() => rotationEventsTopic(secret([]))).toThrow(
      /pass the deployment's rotation-events topic with --topic/,
    );
    expect(() => rotationEventsTopic(secret([]), 'rotation-events')).toThrow(
      /--topic: not a full topic name/,
    );
  });
});
