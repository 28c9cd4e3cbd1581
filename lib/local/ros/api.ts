/**
 * The ROS stack API (2019-09-10) LocalCloud serves to the `@alicloud/ros20190910` client. A call is routed by its
 * action, checked for its region and authorized on its stack's ARN; each action reads its parameters (`params.ts`),
 * asks the model (the stack engine, change sets, ClientTokens) and answers with the response models' fields
 * (`responses.ts`). The change-set actions are in `change-set-api.ts`.
 */
import { ApiError } from '../errors';
import type { RequestContext, RpcService } from '../service';
import { changeSetActions } from './change-set-api';
import type { ChangeSets } from './change-sets';
import type { ClientTokens } from './client-tokens';
import { DEFAULT_TIMEOUT_IN_MINUTES, type StackEngine } from './engine';
import { checkGraph, dependencies, validateReferences } from './graph';
import {
  booleanParam,
  clientTokenParam,
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
import { resourceDetail, stackDetail, stackSummary, templateSummary } from './responses';
import { stackGroupActions, type StackGroups } from './stack-groups';
import { parseTemplate, TemplateError } from './template';

/**
 * The ROS stack API: CreateStack, UpdateStack, DeleteStack, GetStack, ListStacks, ListStackEvents,
 * ListStackResources, GetStackResource, GetTemplate, ValidateTemplate, and the change sets (`change-set-api.ts`):
 * CreateChangeSet, GetChangeSet, ListChangeSets, ExecuteChangeSet, DeleteChangeSet.
 */
export class RosService implements RpcService {
  readonly product = 'ros';
  readonly version = '2019-09-10';
  readonly hostId = 'ros.aliyuncs.com';

  constructor(
    private readonly tokens: ClientTokens,
    private readonly engine: StackEngine,
    private readonly changeSets: ChangeSets,
    private readonly regions: () => readonly string[],
    /** The order of ListStackEvents, which ROS does not document (variant `stackEventsOrder`). */
    private readonly eventsOrder: () => 'newest-first' | 'oldest-first' = () => 'newest-first',
    /** This account's stack groups, and how many account ids one of their calls takes. */
    stackGroups?: { readonly groups: StackGroups; readonly accountsPerCall: () => number },
  ) {
    Object.assign(this.actions, changeSetActions(changeSets, engine, tokens));
    if (stackGroups) {
      const api = stackGroupActions(stackGroups.groups, tokens, {
        regions: this.regions,
        accountsPerCall: stackGroups.accountsPerCall,
      });
      Object.assign(this.actions, api.actions);
      this.stackGroupResource = api.resourceOf;
    }
  }

  /** The RAM resource of a stack group action (its stack group or operation), undefined for the others. */
  private readonly stackGroupResource?: (
    action: string,
    region: string,
    accountId: string,
    p: Record<string, string>,
  ) => string | undefined;

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
    const resource = this.stackGroupResource?.(action, regionId, ctx.accountId, params) ?? stackArn;
    ctx.authorize(`ros:${action}`, [resource]);
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
      return this.tokens.once('CreateStack', clientTokenParam(p), input, () => ({
        StackId: this.engine.create(input).stackId,
      }));
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
      if (booleanParam(p, 'DryRun')) {
        throw new ApiError('NotSupported', 'DryRun updates are not supported by LocalCloud.', 400);
      }
      return this.tokens.once('UpdateStack', clientTokenParam(p), input, () => ({
        StackId: this.engine.update(input).stackId,
      }));
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
      return stackDetail(this.engine, stack, p.OutputOption !== 'Disabled');
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
        Stacks: stacks.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map(stackSummary),
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
        Resources: Object.values(stack.resources).map((r) => resourceDetail(stack, r.logicalId)),
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
        ...resourceDetail(stack, logicalId),
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
        return templateSummary(template);
      } catch (err) {
        if (err instanceof TemplateError) {
          throw new ApiError('InvalidTemplate', err.message, 400);
        }
        throw err;
      }
    },
  };
}
