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
