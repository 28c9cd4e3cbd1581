/**
 * Errors of the deploy helper. Each carries a `code` a program can branch on and a message a person can act on;
 * none carries credentials or parameter values. A message that tells what to do next names the library's options
 * and functions; a front end that has other names for them (the CLI's flags and commands) words it with its own
 * {@link Wording} through {@link DeployError.describe}.
 */
import { errorCode, errorMessage, errorRequestId } from '../sdk-errors';

/** The options a message may tell the user to give, by their library names. */
export type OptionName =
  /** The region of the stacks (`regionId`). */
  | 'regionId'
  /** The region of one stack (`stackRegions`). */
  | 'stackRegions'
  /** A template parameter's value (`parameters`). */
  | 'parameters'
  /** An aliyun CLI profile (`profile`). */
  | 'profile'
  /** LocalCloud instead of the real cloud (`localTarget`). */
  | 'local'
  /** The command that runs the CDK app (`app`). */
  | 'app'
  /** The cloud assembly directory (`outdir`). */
  | 'outdir'
  /** The names of the stacks to work on (`stackNames`). */
  | 'stackNames'
  /** Go ahead without asking or despite what is there (`force`). */
  | 'force';

/** What narrows an option in a message: the stack, the parameter, the value. */
export interface OptionDetail {
  readonly stackName?: string;
  readonly key?: string;
  readonly value?: string;
}

/** How messages name options and the operations a person may run next. */
export interface Wording {
  /** What an option is called: `option` in the library, `flag` in the CLI. */
  readonly optionNoun: string;
  option(name: OptionName, detail?: OptionDetail): string;
  /** The operation that destroys a stack, or shows its events. */
  command(command: 'destroy' | 'events', stackName: string): string;
}

/** The library's own names: options as the functions of `ros-cdk-image-copy/deploy` take them. */
export const LIBRARY_WORDING: Wording = {
  optionNoun: 'option',
  option(name, detail = {}) {
    switch (name) {
      case 'stackRegions':
        return `\`stackRegions.${detail.stackName ?? 'STACK'}\`${detail.value ? ` (${detail.value})` : ''}`;
      case 'parameters':
        return `\`parameters.${detail.key ?? 'KEY'}\``;
      case 'local':
        return '`localTarget()`';
      case 'force':
        return '`force: true`';
      default:
        return `\`${name}\`${detail.value ? ` (${detail.value})` : ''}`;
    }
  },
  command: (command, stackName) =>
    `\`${command === 'destroy' ? 'destroyStack' : 'stackEvents'}({ stackName: '${stackName}' })\``,
};

/** A message that words options and operations with a {@link Wording}. */
export type Describe = (wording: Wording) => string;

export class DeployError extends Error {
  private readonly describeWith?: Describe;

  constructor(
    /** What went wrong, e.g. `StackBusy`, `MissingCredentials`, `ApiError`. */
    readonly code: DeployErrorCode,
    message: string | Describe,
    /** The request id of the API call that failed, when there was one. */
    readonly requestId?: string,
    /** The service's error code (`ActionInProgress`, `Throttling.User`, ...) when an API call failed. */
    readonly apiCode?: string,
    /** The service's own message when an API call failed. */
    readonly apiMessage?: string,
  ) {
    super(typeof message === 'string' ? message : message(LIBRARY_WORDING));
    this.name = 'DeployError';
    if (typeof message !== 'string') {
      this.describeWith = message;
    }
  }

  /** The message, naming options and operations as `wording` does (the library's names in `message`). */
  describe(wording: Wording): string {
    return this.describeWith ? this.describeWith(wording) : this.message;
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
  /** No CDK app to run, or its settings (cdk.json, cdk.context.json) cannot be read. */
  | 'InvalidApp'
  /** No stack of the app matches a name given, or there are no stacks to work on. */
  | 'NoSuchStack'
  /** An environment variable has a value the tool cannot use (e.g. ALIBABA_CLOUD_ENDPOINT_PROTOCOL). */
  | 'InvalidEnvironment'
  /** LocalCloud could not be started or reached (e.g. an unreadable state file). */
  | 'LocalCloudUnavailable'
  /** A new app is written only into an empty directory (unless forced). */
  | 'DirectoryNotEmpty'
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
  /** ROS could not compute a change set (it says why). */
  | 'ChangeSetFailed'
  /** An API call failed (after retries for throttling and server errors). */
  | 'ApiError'
  /** Following the stack was aborted (e.g. Ctrl-C); the operation itself continues in ROS. */
  | 'Aborted';

const CONFIGURATION_CODES: readonly DeployErrorCode[] = [
  'MissingCredentials',
  'MissingRegion',
  'InvalidApp',
  'NoSuchStack',
  'InvalidEnvironment',
  'LocalCloudUnavailable',
  'DirectoryNotEmpty',
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
  if (err instanceof DeployError) {
    return err;
  }
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

/** A value the user gave, quoted for a message: escaped, and cut when it is long (saying how long it was). */
export function quote(value: string): string {
  return value.length <= 64
    ? JSON.stringify(value)
    : `${JSON.stringify(value.slice(0, 40)).slice(0, -1)}…" (${value.length} characters)`;
}
