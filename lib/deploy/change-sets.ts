/**
 * Deploying through a ROS change set: CreateChangeSet (CREATE for a new stack, UPDATE for one that exists, with the
 * same template, parameters, tags and timeout a direct deploy sends), waiting until ROS has computed its changes
 * (GetChangeSet), then executing it (ExecuteChangeSet) and following the stack to its end, or discarding it
 * (DeleteChangeSet, and the stack a CREATE change set made for review).
 *
 * A change set that changes nothing: ROS does not document what CreateChangeSet does then (LocalCloud plays both
 * readings, variant `changeSetWithoutChanges`): it may refuse it as UpdateStack does (`NotSupported`, "completely
 * same stack"), or make it and fail it (CREATE_FAILED, no changes, a reason that says so). Either way the deploy has
 * nothing to do, as a direct one.
 */
import { randomUUID } from 'crypto';
import * as $Ros from '@alicloud/ros20190910';
import { DeployError, LIBRARY_WORDING } from './errors';
import { pollDelay } from './follow';
import {
  type DeployPlan,
  type DeployStackOptions,
  followOperation,
  planDeploy,
  type StackOperationResult,
  unchangedResult,
} from './operations';
import { sleep } from './retry';
import { refuseBusy } from './stack-api';
import type { ResourceChange } from './stack-types';

export interface CreateChangeSetOptions extends DeployStackOptions {
  /** 1-255 letters, digits, `-` or `_`, starting with a letter or digit. @default `ros-deploy-<time>-<random>` */
  readonly changeSetName?: string;
  /**
   * Only to look at ROS's view (`diff --change-set`): a stack whose first create was rolled back is refused instead
   * of deleted to make room for a CREATE change set, as a deploy does. @default false
   */
  readonly review?: boolean;
}

/** A change set ROS has computed, ready to execute or discard. */
export interface ChangeSet {
  readonly stackName: string;
  readonly regionId: string;
  /** Undefined when ROS refused a change set that changes nothing. */
  readonly changeSetId?: string;
  readonly changeSetName: string;
  readonly changeSetType: 'CREATE' | 'UPDATE';
  readonly stackId?: string;
  /** ROS found nothing to change: executing it reports the stack as it is. */
  readonly noChanges: boolean;
  /** ROS's list of changes, with the construct path of each resource when known. */
  readonly changes: (ResourceChange & { readonly constructPath?: string })[];
  /** Executes the change set and follows the stack to its end. */
  execute(): Promise<StackOperationResult>;
  /** Deletes the change set (and the stack a CREATE change set made, which holds nothing yet). */
  discard(): Promise<void>;
}

/** Change set statuses that mean ROS is still computing it. */
const COMPUTING = ['CREATE_PENDING', 'CREATE_IN_PROGRESS'];

/** How ROS (or LocalCloud) says that a change set changes nothing. */
const NOTHING_TO_CHANGE = /changes nothing|no changes|didn't contain changes|completely same/i;

/**
 * Creates a change set for the stack and waits until ROS has computed it. Throws `ChangeSetFailed` when ROS could
 * not compute it (the change set is deleted), and what a direct deploy throws before its first change.
 */
export async function createChangeSet(options: CreateChangeSetOptions): Promise<ChangeSet> {
  const plan = await planDeploy(options, { review: options.review });
  const { api, stackName, existing } = plan;
  const changeSetName = options.changeSetName ?? defaultName(api.clock.now());
  const changeSetType = existing ? 'UPDATE' : 'CREATE';
  const { tags, parameters, ...rest } = plan.request;
  const previous = existing ? await plan.previousParameters() : undefined;
  const timeoutInMinutes = existing ? await plan.updateTimeout() : rest.timeoutInMinutes;
  let created: { changeSetId: string; stackId: string };
  try {
    created = await api.createChangeSet(
      new $Ros.CreateChangeSetRequest({
        ...rest,
        timeoutInMinutes,
        changeSetName,
        changeSetType,
        ...(existing ? { stackId: existing.stackId } : { stackName }),
        ...(previous && { usePreviousParameters: previous.usePrevious }),
        parameters: [...parameters, ...(previous?.parameters ?? [])].map(
          (p) => new $Ros.CreateChangeSetRequestParameters(p),
        ),
        ...(tags.length > 0 && { tags: tags.map((t) => new $Ros.CreateChangeSetRequestTags(t)) }),
      }),
    );
  } catch (err) {
    if (
      existing &&
      err instanceof DeployError &&
      err.apiCode === 'NotSupported' &&
      NOTHING_TO_CHANGE.test(err.message)
    ) {
      return changeSet(plan, { changeSetName, changeSetType, noChanges: true, changes: [] });
    }
    return refuseBusy(stackName, err);
  }
  const computed = await waitUntilComputed(plan, created.changeSetId);
  const base = { changeSetName, changeSetType, ...created } as const;
  if (computed.status === 'CREATE_COMPLETE') {
    return changeSet(plan, { ...base, noChanges: computed.changes.length === 0, changes: computed.changes });
  }
  await api.deleteChangeSet(created.changeSetId).catch(() => undefined);
  if (existing && computed.changes.length === 0 && NOTHING_TO_CHANGE.test(computed.statusReason)) {
    return changeSet(plan, { changeSetName, changeSetType, noChanges: true, changes: [] });
  }
  if (!existing) {
    await api.delete(created.stackId).catch(() => undefined);
  }
  throw new DeployError(
    'ChangeSetFailed',
    `The change set ${changeSetName} of stack ${stackName} is ${computed.status}: ` +
      `${computed.statusReason || 'ROS gave no reason'}. It was deleted.`,
  );
}

async function waitUntilComputed(plan: DeployPlan, changeSetId: string) {
  const { api } = plan;
  const started = api.clock.now();
  for (;;) {
    const described = await api.getChangeSet(changeSetId);
    if (!COMPUTING.includes(described.status)) {
      return described;
    }
    await sleep(
      pollDelay(plan.options.pollIntervalMs, api.clock.now() - started),
      plan.options.signal,
      api.clock,
    );
  }
}

function changeSet(
  plan: DeployPlan,
  found: {
    changeSetName: string;
    changeSetType: 'CREATE' | 'UPDATE';
    changeSetId?: string;
    stackId?: string;
    noChanges: boolean;
    changes: ResourceChange[];
  },
): ChangeSet {
  const { api, stackName, existing } = plan;
  const paths = plan.template.constructPaths;
  // Its own token (CreateChangeSet's is for that request): a retried ExecuteChangeSet is the same request to ROS.
  const executeToken = `ros-deploy-${randomUUID()}`;
  return {
    ...found,
    stackName,
    regionId: api.regionId,
    changes: found.changes.map((c) =>
      paths[c.logicalResourceId] ? { ...c, constructPath: paths[c.logicalResourceId] } : c,
    ),
    async execute() {
      if (found.noChanges || !found.changeSetId || !found.stackId) {
        if (found.changeSetId) {
          await api.deleteChangeSet(found.changeSetId).catch(() => undefined);
        }
        return unchangedResult(plan, existing!, plan.options.wording ?? LIBRARY_WORDING);
      }
      const seen = new Set<string>();
      await api.markSeen(found.stackId, seen);
      const groups = await plan.followGroups();
      await api
        .executeChangeSet(found.changeSetId, executeToken)
        .catch((err: unknown) => refuseBusy(stackName, err));
      return followOperation(
        plan,
        found.stackId,
        found.changeSetType === 'CREATE' ? 'create' : 'update',
        seen,
        groups,
      );
    },
    async discard() {
      if (found.changeSetId) {
        await api.deleteChangeSet(found.changeSetId);
      }
      if (found.changeSetType === 'CREATE' && found.stackId) {
        await api.delete(found.stackId);
      }
    },
  };
}

/**
 * `ros-deploy-20260107T101502Z-1a2b3c4d`: when it was made, and a random part, since a stack keeps its executed
 * change sets and two runs may start within one second. Within ROS's rule for change set names.
 */
function defaultName(now: number): string {
  return `ros-deploy-${new Date(now).toISOString().replace(/[-:]|\.\d+/g, '')}-${randomUUID().slice(0, 8)}`;
}

const SIGNS: Record<string, string> = { Add: '[+]', Remove: '[-]' };

/**
 * ROS's view of a change set as text: `[+]` Add, `[-]` Remove, and for Modify `[-/+]` when ROS says Replacement
 * True, `[~]` otherwise (with "may be replaced" when Conditional); under each, the properties it names and why.
 */
export function formatChangeSet(changeSet: ChangeSet): string {
  const title =
    `Stack ${changeSet.stackName}: change set ${changeSet.changeSetName} (${changeSet.changeSetType}` +
    `${changeSet.changeSetId ? `, ${changeSet.changeSetId}` : ''}), as ROS lists its changes`;
  if (changeSet.noChanges) {
    return `${title}\nThere were no changes\n`;
  }
  const lines = [title];
  for (const change of changeSet.changes) {
    const sign =
      SIGNS[change.action] ??
      (change.replacement === 'True' ? '[-/+]' : change.replacement === 'Conditional' ? '[~?]' : '[~]');
    const where = change.constructPath ? ` (${change.constructPath})` : '';
    const replacement =
      change.action === 'Modify' && change.replacement
        ? ` Replacement: ${change.replacement}${change.replacement === 'Conditional' ? ' (may be replaced)' : ''}`
        : '';
    lines.push(`${sign} ${change.resourceType} ${change.logicalResourceId}${where}${replacement}`);
    for (const d of change.details) {
      const why = [
        d.changeSource,
        d.causingEntity && `caused by ${d.causingEntity}`,
        d.requiresRecreation && `requires recreation: ${d.requiresRecreation}`,
      ]
        .filter(Boolean)
        .join(', ');
      lines.push(`    └─ ${[d.attribute, d.name].filter(Boolean).join('.')}${why ? ` (${why})` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}
