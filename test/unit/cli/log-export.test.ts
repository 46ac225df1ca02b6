import { parseLogExport } from '../../../cli/log-export';

const raw = (over: Record<string, unknown>) =>
  JSON.stringify({
    severity: 'INFO',
    message: 'rotation step create done',
    time: '2025-03-01T10:00:01.000Z',
    event: 'rotation.step',
    step: 'create',
    durationMs: 120,
    'logging.googleapis.com/labels': { secret: 'projects/p/secrets/db', rotation_id: 'rot-1' },
    ...over,
  });

describe('parseLogExport', () => {
  it('reads our raw JSON lines, oldest first, and counts what is not a log entry', () => {
    // Prepare
    const text = [
      raw({ time: '2025-03-01T10:00:02.000Z', step: 'set', message: 'rotation step set done' }),
      'not json',
      JSON.stringify({ unrelated: true }),
      '',
      raw({}),
    ].join('\n');
    // Act
    const { lines, ignored } = parseLogExport(text);
    // Assess
    expect(ignored).toBe(2);
    expect(lines.map((l) => l.step)).toEqual(['create', 'set']);
    expect(lines[0]).toEqual({
      time: Date.parse('2025-03-01T10:00:01.000Z'),
      severity: 'INFO',
      message: 'rotation step create done',
      event: 'rotation.step',
      secret: 'projects/p/secrets/db',
      rotationId: 'rot-1',
      step: 'create',
      durationMs: 120,
    });
  });

  it('reads a gcloud --format=json array of LogEntry objects (labels outside the payload)', () => {
    const entries = [
      {
        timestamp: '2025-03-01T10:00:05.000Z',
        severity: 'ERROR',
        labels: { secret: 'projects/p/secrets/db', rotation_id: 'rot-2' },
        jsonPayload: { message: 'rotation failed', event: 'rotation.failed' },
      },
      {
        timestamp: '2025-03-01T10:00:04.000Z',
        severity: 'INFO',
        labels: { rotation_id: 'rot-2' },
        jsonPayload: { message: 'rotation started', event: 'rotation.claimed' },
      },
    ];
    const { lines, ignored } = parseLogExport(JSON.stringify(entries, null, 2));
    expect(ignored).toBe(0);
    expect(lines.map((l) => [l.event, l.severity, l.rotationId])).toEqual([
      ['rotation.claimed', 'INFO', 'rot-2'],
      ['rotation.failed', 'ERROR', 'rot-2'],
    ]);
  });

  it('reads LogEntry JSON lines whose payload still carries the labels key', () => {
    const line = JSON.stringify({
      timestamp: '2025-03-01T10:00:00Z',
      jsonPayload: JSON.parse(raw({ severity: 'NOTICE', event: 'rotation.completed' })),
    });
    const { lines } = parseLogExport(line);
    expect(lines[0]).toMatchObject({
      rotationId: 'rot-1',
      severity: 'NOTICE',
      event: 'rotation.completed',
    });
  });
});
