/**
 * The Function Compute 3.0 entry point (`index.handler`) of the ImageCopy custom resource.
 *
 * One invocation: decode the event (a Buffer from FC, or a string or object), dispatch Create/Update/Delete to
 * {@link ImageCopyResource}, and ALWAYS answer ROS through the presigned response URL — unless the work is not
 * done when the invocation's time is nearly up, in which case the function re-invokes itself asynchronously with
 * the original event plus a continuation marker, and the invocation that finishes answers. The response URLs and
 * the credentials never appear in logs.
 */
import { CONTINUATION_KEY } from '../protocol';
import {
  createCloudClients,
  endpointsFromEnvironment,
  type ClientFactory,
  type Credentials,
} from './clients';
import { ContinuationRequired, describeApiError, ImageCopyError } from './errors';
import {
  type CustomResourceEvent,
  decodeEvent,
  eventSummary,
  type FcContext,
  type Phase,
  readEvent,
} from './event';
import { ImageCopyResource, type Outcome, placeholderPhysicalId } from './image-copy-resource';
import { EcsImages } from './images';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS, Invocation, invocationDeadlines } from './invocation';
import { consoleSink, Logger, type LogSink } from './log';
import type { OperationContext } from './operation';
import { OperationState } from './operation-state';
import type { PollPlannerOptions } from './poll-planner';
import { type ResponseBody, sendResponse, type SendOptions } from './response';
import { systemClock, withRetry, type Clock } from './retry';

/** What a handler can be built with; every field has a production default. Tests and benchmarks swap them. */
export interface HandlerOptions {
  /** Builds the ECS and FC clients of one invocation. Default: signed clients against the configured endpoints. */
  readonly clients?: ClientFactory;
  readonly clock?: Clock;
  /** Where log lines go. Default: the FC context's logger, else the console. */
  readonly sink?: LogSink;
  /** Read for endpoint overrides and for what the context lacks. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Poll planning bounds. */
  readonly polling?: PollPlannerOptions;
  /** Retry settings of the response POST. */
  readonly response?: Pick<SendOptions, 'attempts' | 'baseDelayMs' | 'attemptTimeoutMs'>;
}

/** What an invocation returns to FC (which ignores it; ROS waits for the response URL). Never secret. */
export interface InvocationSummary {
  readonly outcome: 'answered' | 'continued' | 'refused' | 'not-answered';
  readonly status?: 'SUCCESS' | 'FAILED';
  readonly physicalResourceId?: string;
}

const INITIAL_PHASE: Record<CustomResourceEvent['RequestType'], Phase> = {
  Create: 'copy',
  Update: 'update',
  Delete: 'delete',
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function sinkOf(context: FcContext | undefined): LogSink {
  const logger = context?.logger;
  if (!logger || typeof logger.info !== 'function') {
    return consoleSink;
  }
  return {
    info: (line) => logger.info(line),
    warn: (line) => (logger.warn ?? logger.info).call(logger, line),
    error: (line) => (logger.error ?? logger.info).call(logger, line),
  };
}

/** The function's temporary credentials: the context's (FC 3.0), else the standard environment variables. */
function credentialsOf(context: FcContext | undefined, env: NodeJS.ProcessEnv): Credentials | undefined {
  const fromContext = context?.credentials;
  const accessKeyId = text(fromContext?.accessKeyId) ?? text(env.ALIBABA_CLOUD_ACCESS_KEY_ID);
  const accessKeySecret = text(fromContext?.accessKeySecret) ?? text(env.ALIBABA_CLOUD_ACCESS_KEY_SECRET);
  if (!accessKeyId || !accessKeySecret) {
    return undefined;
  }
  const securityToken = text(fromContext?.accessKeyId)
    ? text(fromContext?.securityToken)
    : text(env.ALIBABA_CLOUD_SECURITY_TOKEN);
  return { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
}

/** The reason a person reads in ROS for a failure. */
function reasonOf(error: unknown): string {
  if (error instanceof ImageCopyError) {
    return error.message;
  }
  return `Internal error of the ImageCopy handler: ${describeApiError('the operation', error)}`;
}

/** Builds an FC 3.0 handler `(event, context) => Promise<summary>`. */
export function createHandler(
  options: HandlerOptions = {},
): (event: unknown, context?: FcContext) => Promise<InvocationSummary> {
  const clock = options.clock ?? systemClock;
  const clientFactory = options.clients ?? createCloudClients;
  return async (rawEvent: unknown, context?: FcContext): Promise<InvocationSummary> => {
    const startedAt = clock.now();
    const env = options.env ?? process.env;
    const functionTimeout = context?.function?.timeout ?? DEFAULT_FUNCTION_TIMEOUT_SECONDS;
    const invocation = new Invocation(clock, invocationDeadlines(startedAt, functionTimeout));
    const rootLog = new Logger(options.sink ?? sinkOf(context), { invocationId: context?.requestId });
    const credentials = credentialsOf(context, env);
    rootLog.addSecret(credentials?.accessKeySecret);
    rootLog.addSecret(credentials?.securityToken);

    // 1. Decode. Without a decodable event there is no URL to answer: all that can be done is say so in the log.
    let decoded: Record<string, unknown>;
    try {
      decoded = decodeEvent(rawEvent);
    } catch (error) {
      rootLog.error('event-refused', { reason: reasonOf(error), answered: false });
      return { outcome: 'refused' };
    }
    const urls = { public: text(decoded.ResponseURL), intranet: text(decoded.IntranetResponseURL) };
    rootLog.addSecret(urls.public);
    rootLog.addSecret(urls.intranet);
    let log = rootLog.child({
      requestId: text(decoded.RequestId),
      logicalResourceId: text(decoded.LogicalResourceId),
      requestType: text(decoded.RequestType),
    });

    const answer = async (body: ResponseBody): Promise<InvocationSummary> => {
      if (!urls.public && !urls.intranet) {
        log.error('response-impossible', {
          status: body.Status,
          reason: body.Reason,
          note: 'the event has no ResponseURL or IntranetResponseURL',
        });
        return { outcome: 'not-answered', status: body.Status, physicalResourceId: body.PhysicalResourceId };
      }
      const sent = await sendResponse(urls, body, {
        clock,
        log,
        deadline: invocation.deadlines.hard,
        ...options.response,
      });
      return {
        outcome: sent ? 'answered' : 'not-answered',
        status: body.Status,
        physicalResourceId: body.PhysicalResourceId,
      };
    };
    const failed = (physicalResourceId: string, reason: string): ResponseBody => ({
      Status: 'FAILED',
      Reason: reason,
      PhysicalResourceId: physicalResourceId,
      StackId: text(decoded.StackId) ?? '',
      RequestId: text(decoded.RequestId) ?? '',
      LogicalResourceId: text(decoded.LogicalResourceId) ?? '',
    });

    // 2. Read the event. A malformed one is answered FAILED when it carries a URL.
    let event: CustomResourceEvent;
    try {
      event = readEvent(decoded);
    } catch (error) {
      const reason = `The ImageCopy handler cannot process this request: ${reasonOf(error)}`;
      log.error('event-refused', { reason });
      const requestId = text(decoded.RequestId) ?? 'unknown-request';
      return answer(failed(text(decoded.PhysicalResourceId) ?? placeholderPhysicalId(requestId), reason));
    }
    const continuation = event[CONTINUATION_KEY];
    const state = new OperationState(INITIAL_PHASE[event.RequestType], startedAt, continuation);
    log.info('event', {
      ...eventSummary(event),
      continued: state.continued,
      attempt: state.attempt,
      phase: state.phase,
      functionTimeoutSeconds: functionTimeout,
    });

    // 3. Run the operation.
    let resource: ImageCopyResource | undefined;
    let outcome: Outcome;
    try {
      if (!credentials) {
        throw new ImageCopyError(
          'Internal',
          'The function has no credentials: give the Function Compute function a RAM role (the provider does this).',
        );
      }
      const accountId = text(context?.accountId) ?? text(env.FC_ACCOUNT_ID) ?? '';
      const regionId = text(context?.region) ?? text(env.FC_REGION) ?? event.RegionId;
      const clients = clientFactory({
        credentials,
        accountId,
        regionId,
        endpoints: endpointsFromEnvironment(env),
      });
      // Built in two steps: the image calls read the operation's deadline, which the operation sets as it goes.
      const operation = {
        event,
        clock,
        invocation,
        log,
        state,
        polling: options.polling ?? {},
        deadline: invocation.deadlines.hard,
      } as Omit<OperationContext, 'images'> & { images?: EcsImages };
      operation.images = new EcsImages(
        clients.ecs,
        { clock, invocation, deadline: () => operation.deadline },
        log,
      );
      const ctx = operation as OperationContext;
      resource = new ImageCopyResource(ctx);
      try {
        outcome = await resource.handle();
      } catch (error) {
        if (!(error instanceof ContinuationRequired)) {
          throw error;
        }
        // 4. Not done in time: hand the work over to a fresh invocation of this function.
        state.resumeAt = error.resumeAt;
        const functionName = text(context?.function?.name) ?? text(env.FC_FUNCTION_NAME);
        if (!functionName) {
          throw new ImageCopyError(
            'ContinuationFailed',
            'The operation needs more time than one invocation, but the function does not know its own name.',
            { imageId: state.imageId },
          );
        }
        const next = { ...decoded, [CONTINUATION_KEY]: state.toContinuation() };
        try {
          const payload = Buffer.from(JSON.stringify(next), 'utf8');
          // Each attempt may use what is left of the invocation: this is its last chance to continue.
          const timeoutMs = () => Math.max(500, invocation.deadlines.hard - clock.now());
          await withRetry(() => clients.fc.invokeAsync(functionName, payload, { timeoutMs: timeoutMs() }), {
            operation: 'FC InvokeFunction',
            deadline: invocation.deadlines.hard,
            clock,
            onRetry: (info) => log.warn('retry', { ...info }),
          });
        } catch (invokeError) {
          throw new ImageCopyError(
            'ContinuationFailed',
            `The operation needs more time than one invocation (phase ${state.phase}` +
              `${state.imageId ? `, image ${state.imageId}` : ''}), but the function could not re-invoke itself: ` +
              `${describeApiError('FC InvokeFunction', invokeError)}. Check that the function's role allows ` +
              `fc:InvokeFunction on itself, or raise the function timeout.`,
            { imageId: state.imageId, cause: invokeError },
          );
        }
        log.info('continued', {
          phase: state.phase,
          imageId: state.imageId,
          attempt: state.attempt + 1,
          resumeInMs: Math.max(0, error.resumeAt - clock.now()),
        });
        return { outcome: 'continued' };
      }
    } catch (error) {
      const reason = reasonOf(error);
      const physicalResourceId =
        resource?.failurePhysicalId() ??
        (event.RequestType === 'Create'
          ? placeholderPhysicalId(event.RequestId)
          : (event.PhysicalResourceId ?? placeholderPhysicalId(event.RequestId)));
      log = log.child({ imageId: error instanceof ImageCopyError ? error.imageId : state.imageId });
      log.error('failed', {
        code: error instanceof ImageCopyError ? error.code : 'Internal',
        reason,
        ...(error instanceof ImageCopyError && error.progress ? { progress: error.progress } : {}),
      });
      return answer(failed(physicalResourceId, reason));
    }

    // 5. Done: answer.
    log.info('done', {
      status: outcome.status,
      physicalResourceId: outcome.physicalResourceId,
      elapsedMs: clock.now() - state.startedAt,
    });
    const base = {
      PhysicalResourceId: outcome.physicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    };
    return answer(
      outcome.status === 'SUCCESS'
        ? { Status: 'SUCCESS', ...base, ...(outcome.data ? { Data: outcome.data } : {}) }
        : { Status: 'FAILED', Reason: outcome.reason, ...base },
    );
  };
}

const defaultHandler = createHandler();

/**
 * The FC 3.0 Node.js 20 handler: `index.handler`. ROS ignores what it returns (it waits for the response URL);
 * the summary goes back as JSON text, which every FC runtime passes through as it is.
 */
export async function handler(event: unknown, context?: FcContext): Promise<string> {
  return JSON.stringify(await defaultHandler(event, context));
}
