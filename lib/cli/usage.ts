/** A mistake in how a command was called (unknown command or flag, bad flag value): exit code 2, with the usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A problem with the project or the environment rather than with the command line (no region, no app, a broken
 * cdk.json, an unknown profile, a stack that is not there): exit code 2, the message alone, without the usage.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** A value the user gave, quoted for a message: escaped, and cut when it is long (saying how long it was). */
export function quote(value: string): string {
  return value.length <= 64
    ? JSON.stringify(value)
    : `${JSON.stringify(value.slice(0, 40)).slice(0, -1)}…" (${value.length} characters)`;
}
