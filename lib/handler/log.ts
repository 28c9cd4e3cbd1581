/**
 * Structured logs: one JSON line per step, with the request id, logical id, request type, image id, status and
 * progress. Nothing secret is ever written: fields that could hold the presigned response URLs or credentials
 * are dropped, and every known secret string (the URLs, the keys, the token) is redacted from the finished line
 * as a second line of defence.
 */

/** Where lines go: FC's `context.logger` when there is one, else the console. */
export interface LogSink {
  info(line: string): void;
  warn?(line: string): void;
  error?(line: string): void;
}

export type LogLevel = 'info' | 'warn' | 'error';

/** Fields every line of one invocation carries. */
export interface LogContext {
  readonly requestId?: string;
  readonly logicalResourceId?: string;
  readonly requestType?: string;
  /** The FC invocation's own request id. */
  readonly invocationId?: string;
}

/** Field names never logged, whatever their value. */
const SECRET_FIELDS = new Set(
  [
    'ResponseURL',
    'IntranetResponseURL',
    'url',
    'accessKeyId',
    'accessKeySecret',
    'securityToken',
    'AccessKeyId',
    'AccessKeySecret',
    'SecurityToken',
    'authorization',
    'Authorization',
  ].map((name) => name.toLowerCase()),
);

const REDACTED = '[redacted]';

/** The shortest secret worth searching for in a line (shorter strings would redact innocent text). */
const MIN_SECRET_LENGTH = 8;

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 6) {
    return '[…]';
  }
  if (value instanceof Error) {
    return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  }
  if (Array.isArray(value)) {
    return value.map((item) => scrub(item, depth + 1));
  }
  if (typeof value === 'object' && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] = SECRET_FIELDS.has(key.toLowerCase()) ? REDACTED : scrub(item, depth + 1);
    }
    return result;
  }
  return value;
}

/** Writes structured lines for one invocation; `child` adds fields (e.g. the image id) to later lines. */
export class Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly fields: Record<string, unknown> = {},
    /** Strings never written; shared with child loggers. */
    private readonly secrets: Set<string> = new Set(),
  ) {}

  /** Never log this string (and the part of a URL before its query string, which identifies it). */
  addSecret(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) {
      return;
    }
    this.secrets.add(secret);
    const query = secret.indexOf('?');
    if (query > 0) {
      this.secrets.add(secret.slice(query + 1));
    }
  }

  /** A logger whose lines also carry `fields`; it shares this logger's secrets. */
  child(fields: Record<string, unknown>): Logger {
    return new Logger(this.sink, { ...this.fields, ...fields }, this.secrets);
  }

  info(step: string, fields: Record<string, unknown> = {}): void {
    this.write('info', step, fields);
  }

  warn(step: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', step, fields);
  }

  error(step: string, fields: Record<string, unknown> = {}): void {
    this.write('error', step, fields);
  }

  private write(level: LogLevel, step: string, fields: Record<string, unknown>): void {
    const entry = scrub({ time: new Date().toISOString(), level, step, ...this.fields, ...fields });
    let line = JSON.stringify(entry);
    for (const secret of this.secrets) {
      if (line.includes(secret)) {
        line = line.split(secret).join(REDACTED);
      }
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (escaped !== secret && line.includes(escaped)) {
        line = line.split(escaped).join(REDACTED);
      }
    }
    const write = (level === 'info' ? this.sink.info : this.sink[level]) ?? this.sink.info;
    write.call(this.sink, line);
  }
}

/** The console as a sink (FC forwards stdout/stderr to its logs). */
export const consoleSink: LogSink = {
  info: (line) => console.log(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};
