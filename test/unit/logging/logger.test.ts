import { createLogger, memorySink } from '../../../shared/logging/logger';
import { Redactor } from '../../../shared/logging/redactor';

describe('createLogger', () => {
  it('writes Cloud Logging JSON lines with severity, message and labels', () => {
    const sink = memorySink();
    const log = createLogger({ sink, now: () => 0 }).child({
      secret: 'projects/p/secrets/s',
      rotation_id: 'rot-1',
    });
    log.info('rotation step set done', { step: 'set', durationMs: 12 });
    expect(sink.entries()).toEqual([
      {
        severity: 'INFO',
        message: 'rotation step set done',
        time: '1970-01-01T00:00:00.000Z',
        step: 'set',
        durationMs: 12,
        'logging.googleapis.com/labels': { secret: 'projects/p/secrets/s', rotation_id: 'rot-1' },
      },
    ]);
  });

  it('never writes values under sensitive keys, at any depth', () => {
    const sink = memorySink();
    createLogger({ sink }).info('x', {
      password: 'p1-value',
      nested: {
        clientSecret: 'cs-value',
        Authorization: 'Bearer abc',
        list: [{ token: 't-value' }],
      },
      payload: Buffer.from('raw'),
      dsn: 'postgres://u:pw@h/db',
    });
    const line = sink.lines[0] ?? '';
    for (const v of ['p1-value', 'cs-value', 'Bearer abc', 't-value', 'raw', 'pw@h'])
      expect(line).not.toContain(v);
  });

  it('scrubs registered secret values wherever they appear, including error messages', () => {
    const sink = memorySink();
    const redactor = new Redactor();
    redactor.add('Zq8#kP2!vL9x');
    redactor.add('with"quote\\and-slash');
    const log = createLogger({ sink, redactor });
    log.error('login failed for Zq8#kP2!vL9x', { error: new Error('bad password Zq8#kP2!vL9x') });
    log.info('json', { note: 'with"quote\\and-slash' });
    expect(sink.lines.join('\n')).not.toContain('Zq8#kP2!vL9x');
    expect(sink.lines[1]).not.toContain('and-slash');
    expect(sink.lines[0]).toContain('[REDACTED]');
  });

  it('filters by minimum severity', () => {
    const sink = memorySink();
    const log = createLogger({ sink, minSeverity: 'WARNING' });
    log.debug('d');
    log.info('i');
    log.warning('w');
    log.error('e');
    expect(sink.entries().map((e) => e.severity)).toEqual(['WARNING', 'ERROR']);
  });
});
