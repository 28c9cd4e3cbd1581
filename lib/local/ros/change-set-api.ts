/**
 * The change-set actions of the ROS API (2019-09-10): CreateChangeSet, GetChangeSet, ListChangeSets,
 * ExecuteChangeSet, DeleteChangeSet, reading requests as the `@alicloud/ros20190910` client sends them, asking the
 * change sets (`change-sets.ts`) and answering with the fields of its response models (`responses.ts`).
 */
import { ApiError } from '../errors';
import type { ChangeSets, ChangeSetType, CreateChangeSetInput } from './change-sets';
import type { ClientTokens } from './client-tokens';
import type { StackEngine } from './engine';
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
import { changeSetDetail, changeSetSummary } from './responses';

type Action = (region: string, p: Record<string, string>) => Record<string, unknown>;

/** Request parameters LocalCloud does not play; a request with one is refused rather than half done. */
const UNSUPPORTED_PARAMETERS = [
  'StackPolicyBody',
  'StackPolicyURL',
  'StackPolicyDuringUpdateBody',
  'StackPolicyDuringUpdateURL',
  'NotificationURLs',
  'RamRoleName',
  'ResourceGroupId',
  'ResourcesToImport',
  'TaintResources',
  'Parallelism',
];
const MAX_DESCRIPTION_BYTES = 1024;
/** ListChangeSets takes at most 5 values of each filter (its reference: "Maximum value of N: 5"). */
const MAX_FILTER_VALUES = 5;
const STATUSES = [
  'CREATE_PENDING',
  'CREATE_IN_PROGRESS',
  'CREATE_COMPLETE',
  'CREATE_FAILED',
  'DELETE_FAILED',
  'DELETE_COMPLETE',
];
const EXECUTION_STATUSES = [
  'UNAVAILABLE',
  'AVAILABLE',
  'EXECUTE_IN_PROGRESS',
  'EXECUTE_COMPLETE',
  'EXECUTE_FAILED',
  'OBSOLETE',
];

/** The change-set actions, by name, over the change sets and the stack engine. */
export function changeSetActions(
  changeSets: ChangeSets,
  engine: StackEngine,
  tokens: ClientTokens,
): Record<string, Action> {
  return {
    CreateChangeSet: (region, p) => {
      const input = createInput(region, p);
      return tokens.once('CreateChangeSet', clientTokenParam(p), input, () => {
        const { changeSetId, stackId } = changeSets.create(input);
        return { ChangeSetId: changeSetId, StackId: stackId };
      });
    },

    GetChangeSet: (region, p) => {
      const changeSet = changeSets.get(region, requireParam(p, 'ChangeSetId'));
      return changeSetDetail(changeSet, engine, booleanParam(p, 'ShowTemplate') === true);
    },

    ListChangeSets: (region, p) => {
      const stackId = stackIdParam(p);
      const { pageNumber, pageSize } = paging(p, 10, 50);
      const list = changeSets.list(region, stackId, {
        names: filterValues(p, 'ChangeSetName'),
        statuses: filterValues(p, 'Status', STATUSES),
        executionStatuses: filterValues(p, 'ExecutionStatus', EXECUTION_STATUSES),
        ...(p.ChangeSetId !== undefined && { changeSetId: p.ChangeSetId }),
      });
      return {
        PageNumber: pageNumber,
        PageSize: pageSize,
        TotalCount: list.length,
        ChangeSets: list.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map(changeSetSummary),
      };
    },

    ExecuteChangeSet: (region, p) => {
      const changeSetId = requireParam(p, 'ChangeSetId');
      return tokens.once('ExecuteChangeSet', clientTokenParam(p), { region, changeSetId }, () => {
        changeSets.execute(region, changeSetId);
        return {};
      });
    },

    DeleteChangeSet: (region, p) => {
      changeSets.delete(region, requireParam(p, 'ChangeSetId'));
      return {};
    },
  };
}

function createInput(region: string, p: Record<string, string>): CreateChangeSetInput {
  const unsupported = UNSUPPORTED_PARAMETERS.filter((name) =>
    Object.keys(p).some((key) => key === name || key.startsWith(`${name}.`)),
  );
  if (unsupported.length > 0) {
    throw new ApiError(
      'NotSupported',
      `LocalCloud does not support these CreateChangeSet parameters: ${unsupported.join(', ')}.`,
      400,
    );
  }
  const changeSetName = requireParam(p, 'ChangeSetName');
  if (!RESOURCE_NAME.test(changeSetName)) {
    throw invalid(
      'ChangeSetName',
      changeSetName,
      'up to 255 letters, digits, _ or -, starting with a letter or digit',
    );
  }
  const type = p.ChangeSetType ?? 'UPDATE';
  if (type === 'IMPORT') {
    throw new ApiError(
      'NotSupported',
      'LocalCloud does not support IMPORT change sets (resource import).',
      400,
    );
  }
  if (type !== 'CREATE' && type !== 'UPDATE') {
    throw invalid('ChangeSetType', type, 'CREATE, UPDATE or IMPORT');
  }
  const replacement = p.ReplacementOption ?? 'Disabled';
  if (replacement !== 'Enabled' && replacement !== 'Disabled') {
    throw invalid('ReplacementOption', replacement, 'Enabled or Disabled');
  }
  if (p.Description !== undefined && Buffer.byteLength(p.Description) > MAX_DESCRIPTION_BYTES) {
    throw invalid(
      'Description',
      `${Buffer.byteLength(p.Description)} bytes`,
      `at most ${MAX_DESCRIPTION_BYTES} bytes`,
    );
  }
  const timeoutInMinutes = timeoutParam(p);
  const common = {
    regionId: region,
    changeSetName,
    changeSetType: type as ChangeSetType,
    ...(p.Description !== undefined && { description: p.Description }),
    parameters: indexedPairs(p, 'Parameters', 'ParameterKey', 'ParameterValue'),
    usePreviousParameters: booleanParam(p, 'UsePreviousParameters') ?? false,
    ...(timeoutInMinutes !== undefined && { timeoutInMinutes }),
    disableRollback: booleanParam(p, 'DisableRollback') ?? false,
    replacementOption: replacement as 'Enabled' | 'Disabled',
    ...(Object.keys(p).some((k) => k.startsWith('Tags.')) && { tags: tagsParam(p) }),
  };
  if (type === 'CREATE') {
    const stackName = requireParam(p, 'StackName');
    if (!RESOURCE_NAME.test(stackName)) {
      throw invalid(
        'StackName',
        stackName,
        'up to 255 letters, digits, _ or -, starting with a letter or digit',
      );
    }
    if (timeoutInMinutes === undefined) {
      // "When ChangeSetType is set to CREATE, this parameter is required" (CreateChangeSet reference).
      throw new ApiError(
        'MissingParameter',
        'The input parameter TimeoutInMinutes should be specified, it is required when ChangeSetType is CREATE.',
        400,
      );
    }
    return { ...common, stackName, templateBody: templateBody(p) };
  }
  const hasTemplate =
    p.TemplateBody !== undefined || p.TemplateURL !== undefined || p.TemplateId !== undefined;
  return {
    ...common,
    stackId: stackIdParam(p),
    ...(hasTemplate && { templateBody: templateBody(p) }),
  };
}

function filterValues(p: Record<string, string>, name: string, allowed?: readonly string[]): string[] {
  const values = indexedList(p, name);
  if (values.length > MAX_FILTER_VALUES) {
    throw invalid(
      `${name}.${values.length}`,
      values[values.length - 1],
      `at most ${MAX_FILTER_VALUES} values`,
    );
  }
  for (const [i, value] of values.entries()) {
    if (allowed && !allowed.includes(value)) {
      throw invalid(`${name}.${i + 1}`, value, `one of ${allowed.join(', ')}`);
    }
  }
  return values;
}
