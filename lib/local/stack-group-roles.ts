/**
 * The RAM roles of ROS stack groups with self-managed permissions, as the ROS guide tells a user to create them
 * ("Step 1: Grant self-managed permissions",
 * https://www.alibabacloud.com/help/en/ros/user-guide/step-1-grant-self-managed-permissions):
 *
 * - in the administrator account, `AliyunROSStackGroupAdministrationRole`, trusted by ROS (trusted entity "Alibaba
 *   Cloud Service", Resource Orchestration Service), with the custom policy `AssumeRole-AliyunROSStackGroupExecutionRole`
 *   (`sts:AssumeRole` on `acs:ram:*:*:role/AliyunROSStackGroupExecutionRole`);
 * - in every execution account, `AliyunROSStackGroupExecutionRole`, trusting the administrator account (trusted
 *   entity "Alibaba Cloud Account", "Other Alibaba Cloud Account": its id), with the system policy
 *   `AdministratorAccess` (every action on every resource). "The administrator account and the execution account can
 *   be the same Alibaba Cloud account": the first account gets both.
 *
 * `LocalCloud.start({ stackGroupRoles: true })` creates them once: an account is given its roles the first time a
 * cloud with the option starts with it (a later start does not undo a change a test made to them), and the state
 * remembers which accounts were.
 */
import type { LocalAccount } from './accounts';
import type { RoleDefinition } from './ram';
import type { StateStore } from './state';

export const STACK_GROUP_ADMINISTRATION_ROLE = 'AliyunROSStackGroupAdministrationRole';
export const STACK_GROUP_EXECUTION_ROLE = 'AliyunROSStackGroupExecutionRole';

/** The administrator account's role: ROS assumes it, and it may assume any account's execution role. */
export function stackGroupAdministrationRole(): RoleDefinition {
  return {
    roleName: STACK_GROUP_ADMINISTRATION_ROLE,
    assumeRolePolicyDocument: {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ros.aliyuncs.com'] } },
      ],
    },
    policies: [
      {
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Resource: `acs:ram:*:*:role/${STACK_GROUP_EXECUTION_ROLE}`,
          },
        ],
      },
    ],
  };
}

/** An execution account's role: the administrator account may assume it, and it may do everything (AdministratorAccess). */
export function stackGroupExecutionRole(administratorAccountId: string): RoleDefinition {
  return {
    roleName: STACK_GROUP_EXECUTION_ROLE,
    assumeRolePolicyDocument: {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { RAM: [`acs:ram::${administratorAccountId}:root`] },
        },
      ],
    },
    policies: [{ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
  };
}

interface StackGroupRolesState {
  /** The accounts given their roles, by id. */
  accountIds: string[];
}

/**
 * Gives each account not given them yet its stack-group roles (the first account, the administrator, both), and
 * records it in the first account's state. Returns the ids of the accounts given roles now.
 */
export function createStackGroupRoles(store: StateStore, accounts: readonly LocalAccount[]): string[] {
  const state = store.section<StackGroupRolesState>('stackGroupRoles', () => ({ accountIds: [] }));
  const administrator = accounts[0];
  const created: string[] = [];
  for (const account of accounts) {
    if (state.accountIds.includes(account.accountId)) {
      continue;
    }
    if (account === administrator) {
      account.putRole(stackGroupAdministrationRole());
    }
    account.putRole(stackGroupExecutionRole(administrator.accountId));
    state.accountIds.push(account.accountId);
    created.push(account.accountId);
  }
  if (created.length > 0) {
    store.changed();
  }
  return created;
}
