/**
 * The Function Compute 3.0 entry point (`index.handler`) of the ImageCopy custom resource.
 *
 * One invocation: decode the event (a Buffer from FC, or a string or object), dispatch Create/Update/Delete to
 * {@link ImageCopyResource}, and ALWAYS answer ROS through the presigned response URL — unless the work is not
 * done when the invocation's time is nearly up, in which case it is handed over to a fresh invocation of the
 * function (continuation.ts), and the invocation that finishes answers. The response URLs and the credentials never
 * appear in logs.
 */
import { systemClock, type Clock } from '../clock';
import {
  CONTINUATION_KEY,
  customResourceTimeoutSeconds,
  DEFAULT_CREATE_TIMEOUT_MINUTES,
  DEFAULT_DELETE_TIMEOUT_MINUTES,
  IMAGE_DISTRIBUTION_RESOURCE_TYPE,
  ImageCopyParameter,
  type ImageCopyParameterKey,
  parseNumberParameter,
  OWNERSHIP_TAG_KEY,
  ownershipOf,
  ownershipRequestHash,
  physicalIdFor,
} from '../protocol';
import {
  createCloudClients,
  endpointsFromEnvironment,
  type ClientFactory,
  type Credentials,
} from './clients';
import { type Continuation, handOver, runOrHandOver } from './continuation';
import { describeApiError, ImageCopyError } from './errors';
import {
  type Confirmation,
  type CustomResourceEvent,
  decodeEvent,
  eventSummary,
  type FcContext,
  type PendingAnswer,
  type Phase,
  readEvent,
} from './event';
import { discardCopy } from './discard';
import { DistributionGroupResource } from './distribution-group';
import { createStackGroupClients } from './distribution-group-api';
import { ImageCopyResource, type Outcome, physicalIdOf } from './image-copy-resource';
import type { ImageView } from './images';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS, Invocation, invocationDeadlines } from './invocation';
import { consoleSink, Logger, type LogSink } from './log';
import { createOperationContext, type OperationContext } from './operation';
import { OperationState } from './operation-state';
import type { PollPlannerOptions } from './poll-planner';
import { type ResponseBody, sendResponse, type SendOptions } from './response';
import { listingBoundFromEnvironment } from './visibility';

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
  readonly response?: Pick<SendOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs' | 'attemptTimeoutMs'>;
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
    const failed = (physicalResourceId: string, reason: string): ResponseBody => ({
      Status: 'FAILED',
      Reason: reason,
      PhysicalResourceId: physicalResourceId,
      StackId: text(decoded.StackId) ?? '',
      RequestId: text(decoded.RequestId) ?? '',
      LogicalResourceId: text(decoded.LogicalResourceId) ?? '',
    });
    /** Sends an answer with no cloud to call afterwards (no confirmation, no hand-over): until the hard deadline. */
    const answerOnly = async (body: ResponseBody): Promise<InvocationSummary> => {
      const summary = { status: body.Status, physicalResourceId: body.PhysicalResourceId };
      if (!urls.public && !urls.intranet) {
        log.error('response-impossible', {
          status: body.Status,
          reason: body.Reason,
          note: 'the event has no ResponseURL or IntranetResponseURL',
        });
        return { outcome: 'not-answered', ...summary };
      }
      const sent = await sendResponse(urls, body, {
        clock,
        log,
        deadline: invocation.deadlines.hard,
        ...options.response,
      });
      if (sent === 'unsent') {
        log.error('response-failed', { status: body.Status, reason: 'no response URL accepted the answer' });
      }
      return { outcome: sent === 'sent' ? 'answered' : 'not-answered', ...summary };
    };

    // 2. Read the event. A malformed one is answered FAILED when it carries a URL.
    let event: CustomResourceEvent;
    try {
      event = readEvent(decoded);
    } catch (error) {
      const reason = `The ImageCopy handler cannot process this request: ${reasonOf(error)}`;
      log.error('event-refused', { reason });
      const requestId = text(decoded.RequestId) ?? 'unknown-request';
      return answerOnly(failed(text(decoded.PhysicalResourceId) ?? physicalIdFor(requestId), reason));
    }
    const continuation = event[CONTINUATION_KEY];
    const state = new OperationState(
      INITIAL_PHASE[event.RequestType],
      startedAt,
      continuation,
      invocation.deadlines.hard,
    );
    log.info('event', {
      ...eventSummary(event),
      continued: state.continued,
      attempt: state.attempt,
      phase: state.phase,
      functionTimeoutSeconds: functionTimeout,
    });
    if (!credentials) {
      const reason =
        'The function has no credentials: give the Function Compute function a RAM role (the provider does this).';
      log.error('failed', { code: 'Internal', reason });
      return answerOnly(failed(physicalIdOf(event), reason));
    }

    // 3. The clients and what every step shares.
    const accountId = text(context?.accountId) ?? text(env.FC_ACCOUNT_ID) ?? '';
    const regionId = text(context?.region) ?? text(env.FC_REGION) ?? event.RegionId;
    const clients = clientFactory({
      credentials,
      accountId,
      regionId,
      endpoints: endpointsFromEnvironment(env),
    });
    const ctx = createOperationContext({
      event,
      clock,
      invocation,
      log,
      state,
      polling: { listingBoundMs: listingBoundFromEnvironment(env), ...options.polling },
      ecs: clients.ecs,
    });
    const functionName = text(context?.function?.name) ?? text(env.FC_FUNCTION_NAME);

    const handing: Continuation = {
      fc: clients.fc,
      functionName,
      event: decoded,
      state,
      clock,
      invocation,
      log,
    };

    // 4. Run the operation, unless only its answer is left to send.
    let pending: PendingAnswer;
    if (state.phase === 'answer' && state.answer) {
      pending = state.answer;
    } else {
      const work =
        event.ResourceType === IMAGE_DISTRIBUTION_RESOURCE_TYPE
          ? new DistributionGroupResource(ctx, {
              clients: createStackGroupClients(
                { credentials, accountId, regionId, endpoints: endpointsFromEnvironment(env) },
                env,
              ),
            })
          : new ImageCopyResource(ctx);
      try {
        const run = await runOrHandOver(() => work.handle(), handing);
        if (run.continued) {
          return { outcome: 'continued' };
        }
        const outcome = run.done;
        log.info('done', {
          status: outcome.status,
          physicalResourceId: outcome.physicalResourceId,
          elapsedMs: clock.now() - state.startedAt,
        });
        pending = pendingAnswerOf(event, outcome);
      } catch (error) {
        const reason = reasonOf(error);
        log = log.child({ imageId: error instanceof ImageCopyError ? error.imageId : state.imageId });
        log.error('failed', {
          code: error instanceof ImageCopyError ? error.code : 'Internal',
          reason,
          ...(error instanceof ImageCopyError && error.progress ? { progress: error.progress } : {}),
        });
        const ownCopy = work.ownCopy();
        pending = { body: failed(work.physicalId(), reason), ...(ownCopy ? { ownCopy } : {}) };
      }
    }

    // 5. Answer; then confirm the copy the answer names, or remove this request's copy if ROS refused it.
    return deliverAnswer(pending, {
      ctx,
      urls,
      handOver: async () => {
        state.enter('answer', clock.now());
        state.answer = pending;
        await handOver(handing);
      },
      response: options.response,
      answerWindowEnd: state.startedAt + answerWindowSeconds(event) * 1000,
    });
  };
}

/** The answer an outcome makes, with what follows it. */
function pendingAnswerOf(event: CustomResourceEvent, outcome: Outcome): PendingAnswer {
  const base = {
    PhysicalResourceId: outcome.physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  if (outcome.status === 'FAILED') {
    return { body: { Status: 'FAILED', Reason: outcome.reason, ...base } };
  }
  return {
    body: { Status: 'SUCCESS', ...base, ...(outcome.data ? { Data: outcome.data } : {}) },
    ...(outcome.confirm ? { confirm: outcome.confirm } : {}),
    ...(outcome.ownCopy ? { ownCopy: outcome.ownCopy } : {}),
  };
}

/**
 * How long ROS may wait for this request's answer, seconds from when it sent it: the custom resource's `Timeout`,
 * which the construct sets from the create and delete timeouts (see `customResourceTimeoutSeconds`).
 */
function answerWindowSeconds(event: CustomResourceEvent): number {
  const seconds = (key: ImageCopyParameterKey, fallbackMinutes: number): number => {
    const value = parseNumberParameter(event.ResourceProperties[key]);
    return value !== undefined && value > 0 ? value : fallbackMinutes * 60;
  };
  return customResourceTimeoutSeconds(
    seconds(ImageCopyParameter.CreateTimeoutSeconds, DEFAULT_CREATE_TIMEOUT_MINUTES),
    seconds(ImageCopyParameter.DeleteTimeoutSeconds, DEFAULT_DELETE_TIMEOUT_MINUTES),
  );
}

/** What delivering an answer needs. */
interface Delivery {
  readonly ctx: OperationContext;
  readonly urls: { readonly public?: string; readonly intranet?: string };
  /** Hands the answer over to a fresh invocation. */
  readonly handOver: () => Promise<void>;
  readonly response?: HandlerOptions['response'];
  /** Until when ROS may still be waiting for the answer (ms since epoch). */
  readonly answerWindowEnd: number;
}

/**
 * Sends the answer while the invocation has time, keeping a reserve to hand it over. Then:
 * - accepted (2xx): confirms the copy it names as the resource's image (a SUCCESS of a Create or an Update);
 * - refused by every URL (4xx: ROS does not want it, e.g. a late delivery after the resource was deleted): removes
 *   the copy this request started if it is still unconfirmed (see {@link discardRefusedCopy});
 * - not sent in time: hands the answer over to a fresh invocation, for as long as ROS may still be waiting for it.
 */
async function deliverAnswer(pending: PendingAnswer, delivery: Delivery): Promise<InvocationSummary> {
  const { ctx, urls } = delivery;
  const { clock, invocation, log } = ctx;
  const summary = { status: pending.body.Status, physicalResourceId: pending.body.PhysicalResourceId };
  if (!urls.public && !urls.intranet) {
    log.error('response-impossible', {
      status: pending.body.Status,
      reason: pending.body.Reason,
      note: 'the event has no ResponseURL or IntranetResponseURL',
    });
    return { outcome: 'not-answered', ...summary };
  }
  // ECS calls after the answer are bounded by the invocation alone.
  ctx.state.beginAnswer();
  const reserve = (invocation.deadlines.hard - invocation.deadlines.soft) / 2;
  const sent = await sendResponse(urls, pending.body, {
    clock,
    log,
    deadline: invocation.deadlines.hard - reserve,
    ...delivery.response,
  });
  if (sent === 'sent') {
    if (pending.confirm) {
      await confirmImage(ctx, pending.confirm);
    }
    return { outcome: 'answered', ...summary };
  }
  if (sent === 'refused') {
    if (pending.ownCopy) {
      await discardRefusedCopy(ctx, pending.ownCopy);
    }
    return { outcome: 'not-answered', ...summary };
  }
  if (clock.now() >= delivery.answerWindowEnd) {
    log.error('response-failed', {
      status: pending.body.Status,
      reason:
        'no response URL accepted the answer, and ROS no longer waits for it (the custom resource Timeout)',
    });
    return { outcome: 'not-answered', ...summary };
  }
  try {
    await delivery.handOver();
  } catch (error) {
    log.error('response-failed', {
      status: pending.body.Status,
      reason: `no response URL accepted the answer, and it could not be handed over: ${reasonOf(error)}`,
    });
    return { outcome: 'not-answered', ...summary };
  }
  log.info('answer-handed-over', {
    status: pending.body.Status,
    answerWindowEndsInMs: delivery.answerWindowEnd - clock.now(),
  });
  return { outcome: 'continued', ...summary };
}

/** Marks the copy an accepted answer names as the resource's image: its ownership tag, confirmed. */
async function confirmImage(ctx: OperationContext, confirmation: Confirmation): Promise<void> {
  const log = ctx.log.child({ imageId: confirmation.imageId });
  try {
    await ctx.images.tag(confirmation.regionId, confirmation.imageId, {
      [OWNERSHIP_TAG_KEY]: confirmation.value,
    });
    log.info('confirmed', { regionId: confirmation.regionId });
  } catch (error) {
    // The copy stays unconfirmed: still this instance's image for Update and Delete (see ownership.ts).
    log.warn('confirm-failed', { reason: describeApiError('ECS TagResources', error) });
  }
}

/** How long a refused answer's copy is watched for a confirmation by a duplicate delivery, ms. */
export const REFUSED_COPY_GRACE_MS = 10_000;

/**
 * ROS refused the answer to a request that started a copy: a late delivery (an FC retry after the resource, or the
 * stack, was deleted), whose copy nobody will ever delete, or a duplicate delivery whose twin's answer was accepted
 * first. The twin confirms the copy right after its 2xx, so the copy is watched for a while: confirmed, it is the
 * resource's image and stays; still unconfirmed, it never became anyone's image and is removed.
 */
async function discardRefusedCopy(
  ctx: OperationContext,
  copy: NonNullable<PendingAnswer['ownCopy']>,
): Promise<void> {
  const { clock, invocation, event } = ctx;
  const log = ctx.log.child({ imageId: copy.imageId });
  const watchUntil = Math.min(clock.now() + REFUSED_COPY_GRACE_MS, invocation.deadlines.soft);
  for (;;) {
    let image: ImageView | undefined;
    try {
      image = await ctx.images.describe(copy.regionId, copy.imageId);
    } catch (error) {
      log.warn('refused-copy-unread', { reason: describeApiError('ECS DescribeImages', error) });
      return;
    }
    const tag =
      image && ownershipOf(image.tags[OWNERSHIP_TAG_KEY] ?? '', event.StackId, event.LogicalResourceId);
    if (image && (!tag || tag.confirmed || tag.request !== ownershipRequestHash(event.RequestId))) {
      log.info('refused-copy-kept', {
        reason: tag?.confirmed ? 'confirmed as the resource image' : 'not a copy this request started',
      });
      return;
    }
    if (!image && ctx.state.copySeen) {
      return; // gone already
    }
    // Unconfirmed, or not listed yet (it is then cancelled by id all the same).
    const left = watchUntil - clock.now();
    if (left <= 0) {
      break;
    }
    await clock.sleep(Math.min(5_000, left));
  }
  log.info('refused-copy-discarded', { reason: 'ROS refused the answer and the copy is not confirmed' });
  await discardCopy(ctx, copy.regionId, copy.imageId, 'refused-copy');
}

const defaultHandler = createHandler();

/**
 * The FC 3.0 Node.js 20 handler: `index.handler`. ROS ignores what it returns (it waits for the response URL);
 * the summary goes back as JSON text, which every FC runtime passes through as it is.
 */
export async function handler(event: unknown, context?: FcContext): Promise<string> {
  return JSON.stringify(await defaultHandler(event, context));
}
