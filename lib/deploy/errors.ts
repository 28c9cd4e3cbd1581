/**
 * Errors of the deploy helper. Each carries a `code` a program can branch on and a message a person can act on;
 * none carries credentials or parameter values.
 */
import { errorCode, errorMessage, errorRequestId } from '../sdk-errors';

export class DeployError extends Error {
  constructor(
    /** What went wrong, e.g. `StackBusy`, `MissingCredentials`, `ApiError`. */
    readonly code: DeployErrorCode,
    message: string,
    /** The request id of the API call that failed, when there was one. */
    readonly requestId?: string,
    /** The service's error code (`ActionInProgress`, `Throttling.User`, ...) when an API call failed. */
    readonly apiCode?: string,
    /** The service's own message when an API call failed. */
    readonly apiMessage?: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }

  /** Whether the error is about how the tool was set up (credentials, region, template), not about a stack. */
  get isConfigurationError(): boolean {
    return (
      CONFIGURATION_CODES.includes(this.code) ||
      (this.apiCode !== undefined && AUTHENTICATION_CODES.test(this.apiCode))
    );
  }
}

export type DeployErrorCode =
  /** No credentials in the default chain (or the named profile). */
  | 'MissingCredentials'
  /** No region given and none found in the environment or the profile. */
  | 'MissingRegion'
  /** The template cannot be sent (too large, not JSON, not found in the cloud assembly). */
  | 'InvalidTemplate'
  /** The CDK app failed to synthesize, or wrote no cloud assembly. */
  | 'SynthFailed'
  /** The stack's app pinned it to another region (`env.region`) than the one it is deployed to. */
  | 'RegionMismatch'
  /** An update cannot keep a deployed parameter value the caller did not give again (a NoEcho one). */
  | 'MissingParameter'
  /** Another operation is in progress on the stack. */
  | 'StackBusy'
  /** The stack is in a state that cannot be updated (e.g. a failed create). */
  | 'StackNotUpdatable'
  /** No stack of that name in the region. */
  | 'StackNotFound'
  /** An API call failed (after retries for throttling and server errors). */
  | 'ApiError'
  /** Following the stack was aborted (e.g. Ctrl-C); the operation itself continues in ROS. */
  | 'Aborted';

const CONFIGURATION_CODES: readonly DeployErrorCode[] = [
  'MissingCredentials',
  'MissingRegion',
  'InvalidTemplate',
  'SynthFailed',
  'RegionMismatch',
  'MissingParameter',
];

/** API errors that mean the credentials themselves are wrong (not a stack problem). */
const AUTHENTICATION_CODES =
  /^(InvalidAccessKeyId|InvalidAccessKeySecret|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken|InvalidCredentials)/;

/** An SDK error as a {@link DeployError} that says what was being done: `GetStack failed: <message> (<code>, request id …)`. */
export function apiError(action: string, err: unknown): DeployError {
  if (err instanceof DeployError) return err;
  const code = errorCode(err);
  const requestId = errorRequestId(err);
  const message = readableMessage(errorMessage(err));
  const details = [code && !message.includes(code) && code, requestId && `request id ${requestId}`]
    .filter(Boolean)
    .join(', ');
  return new DeployError(
    'ApiError',
    `${action} failed: ${message}${details ? ` (${details})` : ''}`,
    requestId,
    code,
    message,
  );
}

/**
 * The SDK glues the request to a network error's message without a separator, query string and all
 * (`connect ECONNREFUSED 127.0.0.1:33755POST http://127.0.0.1:33755/?Action=…&Parameters.1.ParameterValue=… failed.`):
 * the request goes in parentheses, without its query, which may carry parameter values.
 */
export function readableMessage(message: string): string {
  return message
    .replace(/^Error: /, '')
    .replace(
      /\s*(GET|POST|PUT|DELETE|PATCH|HEAD) (https?:\/\/[^\s?]*)(\?\S*)? failed\.?$/,
      (_match, method: string, url: string) => ` (${method} ${url})`,
    );
}
