/** The error every LocalCloud API answers with, and the parameter errors ECS and ROS share. */

/**
 * An error answered by a LocalCloud API in the JSON shape the Alibaba SDK parses
 * (`Code`, `Message`, `RequestId`, `HostId`, `Recommend`) with the service's HTTP status.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
    /** Extra response headers, e.g. `x-acs-retry-after` for throttling. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const missingParameter = (name: string): ApiError =>
  new ApiError(
    `MissingParameter`,
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
    400,
  );

export const invalidParameter = (name: string, value: unknown, rule: string): ApiError =>
  new ApiError(
    'InvalidParameter',
    `The specified parameter "${name}" is not valid: ${JSON.stringify(value)} (${rule}).`,
    400,
  );
