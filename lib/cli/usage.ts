/** A mistake in how a command was called (flags, arguments, configuration): exit code 2, with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
