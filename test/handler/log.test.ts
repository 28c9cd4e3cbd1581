import { Logger } from '../../lib/handler/log';

function capture() {
  const lines: Array<{ level: string; line: string }> = [];
  const sink = {
    info: (line: string) => lines.push({ level: 'info', line }),
    warn: (line: string) => lines.push({ level: 'warn', line }),
    error: (line: string) => lines.push({ level: 'error', line }),
  };
  return { lines, sink };
}

describe('Logger', () => {
  it('writes one JSON line per step with the fields of the invocation and of the step', () => {
    const { lines, sink } = capture();
    const log = new Logger(sink, { requestId: 'r-1' }).child({ imageId: 'm-1' });
    log.warn('poll', { status: 'Creating', progress: '42%' });
    expect(lines).toHaveLength(1);
    expect(lines[0].level).toBe('warn');
    expect(JSON.parse(lines[0].line)).toMatchObject({
      level: 'warn',
      step: 'poll',
      requestId: 'r-1',
      imageId: 'm-1',
      status: 'Creating',
      progress: '42%',
    });
  });

  it('drops fields that could hold a URL or a credential, at any depth', () => {
    const { lines, sink } = capture();
    new Logger(sink).info('event', {
      ResponseURL: 'https://callback/1?Signature=abc',
      nested: {
        IntranetResponseURL: 'https://intranet/1',
        credentials: { accessKeySecret: 's', SecurityToken: 't' },
      },
      url: 'https://x',
    });
    const entry = JSON.parse(lines[0].line);
    expect(entry.ResponseURL).toBe('[redacted]');
    expect(entry.nested.IntranetResponseURL).toBe('[redacted]');
    expect(entry.nested.credentials).toEqual({ accessKeySecret: '[redacted]', SecurityToken: '[redacted]' });
    expect(entry.url).toBe('[redacted]');
  });

  it('redacts known secrets wherever they appear, also the query string of a URL alone and JSON-escaped', () => {
    const { lines, sink } = capture();
    const log = new Logger(sink);
    const url = 'https://callback.example/r/1?Expires=1&Signature=very+secret/sig"nature';
    log.addSecret(url);
    log.addSecret('token-1234567890');
    log.child({ step2: true }).error('failed', {
      reason: `could not post to ${url}`,
      other: 'Expires=1&Signature=very+secret/sig"nature',
      message: 'the token token-1234567890 was refused',
      error: new Error('at https://callback.example/r/1?Expires=1&Signature=very+secret/sig"nature'),
    });
    const line = lines[0].line;
    expect(line).not.toContain('very+secret');
    expect(line).not.toContain('token-1234567890');
    expect(JSON.parse(line).message).toBe('the token [redacted] was refused');
  });

  it('ignores secrets too short to search for safely', () => {
    const { lines, sink } = capture();
    const log = new Logger(sink);
    log.addSecret('abc');
    log.addSecret(undefined);
    log.info('step', { text: 'abc' });
    expect(JSON.parse(lines[0].line).text).toBe('abc');
  });

  it('writes errors as name, message and code', () => {
    const { lines, sink } = capture();
    new Logger(sink).info('step', {
      error: Object.assign(new Error('boom'), { code: 'E1', stack: 'secret stack' }),
    });
    expect(JSON.parse(lines[0].line).error).toEqual({ name: 'Error', message: 'boom', code: 'E1' });
  });
});
