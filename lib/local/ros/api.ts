import { createHash } from 'crypto';
import { ApiError } from '../errors';
import type { RequestContext, RpcService } from '../service';
import type { StateStore } from '../state';
import { changeSetActions } from './change-set-api';
import type { ChangeSets } from './change-sets';
import { StackEngine, StackState } from './engine';
import { checkGraph, dependencies, validateReferences } from './graph';
import {
  booleanParam,
  indexedList,
  indexedPairs,
  invalid,
  paging,
  requireParam,
  RESOURCE_NAME,
  stackIdParam,
  tagsParam,
  templateBody,
  timeoutParam,
} from './params';
import { MASK, parseTemplate, resolveParameters, TemplateError } from './template';

/**
 * `TimeoutInMinutes` when CreateStack or UpdateStack does not give it: "Default value: 60", 10 to 1440 allowed
 * (`@alicloud/ros20190910` CreateStackRequest and UpdateStackRequest).
 */
export const DEFAULT_TIMEOUT_IN_MINUTES = 60;

export { MAX_TEMPLATE_BYTES } from './params';

interface TokenRecord {
  action: string;
  hash: string;
  /** The answer the first request got (`StackId` alone in records written before change sets). */
  result?: Record<string, unknown>;
  stackId?: string;
  time: number;
}

/**
 * The ROS stack API (2019-09-10) over LocalCloud's stack engine: CreateStack, UpdateStack, DeleteStack, GetStack,
 * ListStacks, ListStackEvents, ListStackResources, GetStackResource, GetTemplate, ValidateTemplate, and the change
 * sets (`change-set-api.ts`): CreateChangeSet, GetChangeSet, ListChangeSets, ExecuteChangeSet, DeleteChangeSet.
 */
export class RosService implements RpcService {
  readonly product = 'ros';
  readonly version = '2019-09-10';
  readonly hostId = 'ros.aliyuncs.com';
  private readonly tokens: Record<string, TokenRecord>;

  constructor(
    private readonly store: StateStore,
    private readonly engine: StackEngine,
    private readonly changeSets: ChangeSets,
    private readonly regions: () => readonly string[],
    /** The order of ListStackEvents, which ROS does not document (variant `stackEventsOrder`). */
    private readonly eventsOrder: () => 'newest-first' | 'oldest-first' = () => 'newest-first',
  ) {
    this.tokens = store.section<Record<string, TokenRecord>>('rosTokens', () => ({}));
    Object.assign(
      this.actions,
      changeSetActions(changeSets, engine, (action, p, input, run) => this.idempotent(action, p, input, run)),
    );
  }

  async handle(
    action: string,
    params: Record<string, string>,
    ctx: RequestContext,
  ): Promise<Record<string, unknown>> {
    // Own properties only: `valueOf`, `constructor` or `__proto__` are not actions (they reached the service object).
    const handler = Object.prototype.hasOwnProperty.call(this.actions, action)
      ? this.actions[action]
      : undefined;
    if (!handler) {
      throw new ApiError(
        'InvalidAction.NotFound',
        `Specified api ${action} is not found, please check your url and method.`,
        404,
      );
    }
    const regionId = requireParam(params, 'RegionId');
    if (!this.regions().includes(regionId)) {
      throw new ApiError('InvalidRegionId.NotFound', `The specified region ${regionId} does not exist.`, 404);
    }
    // The change-set actions name the change set only: their resource is its stack (RAM tables of GetChangeSet ...).
    const stackId =
      params.StackId ?? (params.ChangeSetId ? this.changeSets.stackIdOf(params.ChangeSetId) : undefined);
    const stackArn = stackId
      ? `acs:ros:${regionId}:${ctx.accountId}:stack/${stackId}`
      : `acs:ros:${regionId}:${ctx.accountId}:stack/*`;
    ctx.authorize(`ros:${action}`, [stackArn]);
    return handler.call(this, regionId, params);
  }

  private readonly actions: Record<
    string,
    (region: string, p: Record<string, string>) => Record<string, unknown>
  > = {
    CreateStack: (region, p) => {
      const stackName = requireParam(p, 'StackName');
      if (!RESOURCE_NAME.test(stackName)) {
        throw invalid(
          'StackName',
          stackName,
          'up to 255 letters, digits, _ or -, starting with a letter or digit',
        );
      }
      const input = {
        regionId: region,
        stackName,
        templateBody: templateBody(p),
        parameters: indexedPairs(p, 'Parameters', 'ParameterKey', 'ParameterValue'),
        timeoutInMinutes: timeoutParam(p) ?? DEFAULT_TIMEOUT_IN_MINUTES,
        disableRollback: booleanParam(p, 'DisableRollback') ?? false,
        tags: tagsParam(p),
        deletionProtection: (p.DeletionProtection === 'Enabled' ? 'Enabled' : 'Disabled') as
          'Enabled' | 'Disabled',
      };
      return this.idempotent('CreateStack', p, input, () => ({ StackId: this.engine.create(input).stackId }));
    },

    UpdateStack: (region, p) => {
      const stackId = stackIdParam(p);
      const replacement = p.ReplacementOption ?? 'Disabled';
      if (replacement !== 'Enabled' && replacement !== 'Disabled') {
        throw invalid('ReplacementOption', replacement, 'Enabled or Disabled');
      }
      const input = {
        regionId: region,
        stackId,
        templateBody:
          p.TemplateBody !== undefined || p.TemplateURL !== undefined ? templateBody(p) : undefined,
        parameters: indexedPairs(p, 'Parameters', 'ParameterKey', 'ParameterValue'),
        usePreviousParameters: booleanParam(p, 'UsePreviousParameters') ?? false,
        // Not kept from the last operation: UpdateStack's own default is 60, as CreateStack's.
        timeoutInMinutes: timeoutParam(p) ?? DEFAULT_TIMEOUT_IN_MINUTES,
        disableRollback: booleanParam(p, 'DisableRollback'),
        replacementOption: replacement as 'Enabled' | 'Disabled',
        tags: Object.keys(p).some((k) => k.startsWith('Tags.')) ? tagsParam(p) : undefined,
      };
      if (booleanParam(p, 'DryRun'))
        throw new ApiError('NotSupported', 'DryRun updates are not supported by LocalCloud.', 400);
      return this.idempotent('UpdateStack', p, input, () => ({ StackId: this.engine.update(input).stackId }));
    },

    DeleteStack: (region, p) => {
      this.engine.delete(region, stackIdParam(p), {
        all: booleanParam(p, 'RetainAllResources') ?? false,
        resources: indexedList(p, 'RetainResources'),
      });
      return {};
    },

    GetStack: (region, p) => {
      const stack = this.engine.get(region, stackIdParam(p));
      return this.describeStack(stack, p.OutputOption !== 'Disabled');
    },

    ListStacks: (region, p) => {
      const names = indexedList(p, 'StackName');
      const statuses = indexedList(p, 'Status');
      const ids = indexedList(p, 'StackIds');
      const { pageNumber, pageSize } = paging(p, 10, 100);
      const stacks = this.engine
        .stacks(region)
        .filter((s) => (statuses.length > 0 ? statuses.includes(s.status) : s.status !== 'DELETE_COMPLETE'))
        .filter((s) => names.length === 0 || names.includes(s.stackName))
        .filter((s) => ids.length === 0 || ids.includes(s.stackId))
        .sort((a, b) => (a.createTime < b.createTime ? 1 : -1));
      return {
        PageNumber: pageNumber,
        PageSize: pageSize,
        TotalCount: stacks.length,
        Stacks: stacks.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map((s) => ({
          StackId: s.stackId,
          StackName: s.stackName,
          Status: s.status,
          StatusReason: s.statusReason,
          RegionId: s.regionId,
          CreateTime: s.createTime,
          UpdateTime: s.updateTime,
          TimeoutInMinutes: s.timeoutInMinutes,
          DisableRollback: s.disableRollback,
          Tags: s.tags,
        })),
      };
    },

    ListStackEvents: (region, p) => {
      const stack = this.engine.get(region, stackIdParam(p));
      const logicalIds = indexedList(p, 'LogicalResourceId');
      const types = indexedList(p, 'ResourceType');
      const statuses = indexedList(p, 'Status');
      const { pageNumber, pageSize } = paging(p, 10, 50);
      const chronological = [...stack.events];
      const events = (this.eventsOrder() === 'newest-first' ? chronological.reverse() : chronological)
        .filter((e) => logicalIds.length === 0 || logicalIds.includes(e.LogicalResourceId))
        .filter((e) => types.length === 0 || types.includes(e.ResourceType))
        .filter((e) => statuses.length === 0 || statuses.includes(e.Status));
      return {
        PageNumber: pageNumber,
        PageSize: pageSize,
        TotalCount: events.length,
        Events: events.slice((pageNumber - 1) * pageSize, pageNumber * pageSize),
      };
    },

    ListStackResources: (region, p) => {
      const stack = this.engine.get(region, stackIdParam(p));
      return {
        Resources: Object.values(stack.resources).map((r) => this.describeResource(stack, r.logicalId)),
      };
    },

    GetStackResource: (region, p) => {
      const stack = this.engine.get(region, stackIdParam(p));
      const logicalId = requireParam(p, 'LogicalResourceId');
      const resource = stack.resources[logicalId];
      if (!resource) {
        throw new ApiError(
          'ResourceNotFound',
          `The Resource (${logicalId}) could not be found in Stack ${stack.stackName}.`,
          404,
        );
      }
      const attributes =
        booleanParam(p, 'ShowResourceAttributes') === true
          ? Object.entries(resource.attributes ?? {}).map(([Key, Value]) => ({ Key, Value }))
          : undefined;
      return {
        ...this.describeResource(stack, logicalId),
        ...(attributes && { ResourceAttributes: attributes }),
      };
    },

    GetTemplate: (region, p) => {
      const stack = this.engine.get(region, stackIdParam(p));
      return { TemplateBody: stack.templateBody };
    },

    ValidateTemplate: (_region, p) => {
      const body = templateBody(p);
      try {
        const template = parseTemplate(body);
        validateReferences(template);
        checkGraph(dependencies(template, Object.keys(template.Resources)));
        return {
          Description: template.Description,
          Parameters: Object.entries(template.Parameters).map(([key, def]) => ({
            ParameterKey: key,
            Type: def.Type,
            ...(def.Default !== undefined && { DefaultValue: def.NoEcho ? MASK : def.Default }),
            ...(def.AllowedValues && { AllowedValues: def.AllowedValues }),
            ...(def.Description !== undefined && { Description: def.Description }),
            NoEcho: def.NoEcho === true,
          })),
          Outputs: Object.entries(template.Outputs).map(([key, def]) => ({
            OutputKey: key,
            Description: def.Description,
          })),
        };
      } catch (err) {
        if (err instanceof TemplateError) throw new ApiError('InvalidTemplate', err.message, 400);
        throw err;
      }
    },
  };

  private describeStack(stack: StackState, withOutputs: boolean): Record<string, unknown> {
    const template = this.engine.template(stack);
    const parameters = safeParameters(stack, template);
    return {
      StackId: stack.stackId,
      StackName: stack.stackName,
      Status: stack.status,
      StatusReason: stack.statusReason,
      RegionId: stack.regionId,
      Description: template.Description,
      TemplateDescription: template.Description,
      CreateTime: stack.createTime,
      UpdateTime: stack.updateTime,
      DeletionProtection: stack.deletionProtection,
      DisableRollback: stack.disableRollback,
      TimeoutInMinutes: stack.timeoutInMinutes,
      Tags: stack.tags,
      Parameters: parameters,
      ...(withOutputs && stack.outputs.length > 0 && { Outputs: this.engine.visibleOutputs(stack) }),
    };
  }

  private describeResource(stack: StackState, logicalId: string): Record<string, unknown> {
    const r = stack.resources[logicalId];
    return {
      StackId: stack.stackId,
      StackName: stack.stackName,
      LogicalResourceId: r.logicalId,
      PhysicalResourceId: r.physicalId ?? '',
      ResourceType: r.type,
      Status: r.status,
      StatusReason: r.statusReason ?? '',
      CreateTime: r.createTime,
      UpdateTime: r.updateTime ?? r.createTime,
    };
  }

  /** ClientToken: same token and request → the first answer again; same token, other request → an error. */
  private idempotent(
    action: string,
    p: Record<string, string>,
    input: object,
    run: () => Record<string, unknown>,
  ): Record<string, unknown> {
    const token = p.ClientToken;
    if (token === undefined) return run();
    if (token.length > 64 || !/^[\x20-\x7e]+$/.test(token))
      throw invalid('ClientToken', token, 'up to 64 ASCII characters');
    const hash = createHash('sha256').update(action).update(JSON.stringify(input)).digest('hex');
    const now = Date.now();
    for (const [t, record] of Object.entries(this.tokens))
      if (now - record.time > 24 * 3600 * 1000) delete this.tokens[t];
    const seen = this.tokens[token];
    if (seen) {
      if (seen.hash !== hash || seen.action !== action) {
        throw new ApiError(
          'InvalidIdempotenceParameter',
          `The ClientToken ${token} was used for a different request.`,
          400,
        );
      }
      return seen.result ?? { StackId: seen.stackId };
    }
    const result = run();
    this.tokens[token] = { action, hash, result, time: now };
    this.store.changed();
    return result;
  }
}

function safeParameters(stack: StackState, template: ReturnType<StackEngine['template']>) {
  try {
    const resolved = resolveParameters(template, stack.parameters, {
      region: stack.regionId,
      accountId: '',
      stackId: stack.stackId,
      stackName: stack.stackName,
    });
    return Object.entries(resolved.strings).map(([ParameterKey, value]) => ({
      ParameterKey,
      ParameterValue: resolved.noEcho.has(ParameterKey) ? MASK : value,
    }));
  } catch {
    return Object.entries(stack.parameters).map(([ParameterKey, ParameterValue]) => ({
      ParameterKey,
      ParameterValue,
    }));
  }
}
