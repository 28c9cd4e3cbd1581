/**
 * The self-managed permission model, checked through each account's RAM before ROS touches a target account
 * ("Step 1: Grant self-managed permissions",
 * https://www.alibabacloud.com/help/en/ros/user-guide/step-1-grant-self-managed-permissions):
 * - the administrator account has the administration role (default AliyunROSStackGroupAdministrationRole), which
 *   ROS assumes (its trust policy names the service `ros.aliyuncs.com`) and which is allowed `sts:AssumeRole` on the
 *   execution role (the documented policy AssumeRole-AliyunROSStackGroupExecutionRole:
 *   `acs:ram::*:role/AliyunROSStackGroupExecutionRole`);
 * - each execution account has the execution role (default AliyunROSStackGroupExecutionRole) whose trusted entity
 *   is the administrator account.
 * When ROS "fails to assume the required role" the instance is OUTDATED ("Status of stack group and stack instance
 * operations"); the wording of that reason is not documented: LocalCloud's names the role and the account.
 */
import type { PolicyDocument, Ram } from '../../ram';
import { isAllowed, trustsService, wildcardMatch } from '../../ram';
import { ROS_SERVICE } from './model';

/** Why ROS cannot act in `targetAccountId` for `adminAccountId`, or undefined when the roles allow it. */
export function selfManagedDenial(
  admin: { accountId: string; ram: Ram },
  target: { accountId: string; ram: Ram } | undefined,
  targetAccountId: string,
  administrationRoleName: string,
  executionRoleName: string,
): string | undefined {
  const adminRole = admin.ram.getRole(administrationRoleName);
  const assumeAdmin = `Failed to assume the administration role ${administrationRoleName} of account ${admin.accountId}`;
  if (!adminRole) {
    return `${assumeAdmin}: the role does not exist`;
  }
  if (!trustsService(adminRole.assumeRolePolicyDocument, ROS_SERVICE)) {
    return `${assumeAdmin}: its trust policy does not let ${ROS_SERVICE} assume it`;
  }
  const executionArn = `acs:ram::${targetAccountId}:role/${executionRoleName}`;
  const policy: PolicyDocument = { Version: '1', Statement: adminRole.policies.flatMap((p) => p.Statement) };
  const assumeExecution = `Failed to assume the execution role ${executionRoleName} of account ${targetAccountId}`;
  if (!isAllowed(policy, 'sts:AssumeRole', executionArn)) {
    return (
      `${assumeExecution}: the administration role ${administrationRoleName} of account ${admin.accountId} ` +
      `is not allowed sts:AssumeRole on ${executionArn}`
    );
  }
  const executionRole = target?.ram.getRole(executionRoleName);
  if (!executionRole) {
    return `${assumeExecution}: the role does not exist`;
  }
  if (!trustsAccount(executionRole.assumeRolePolicyDocument, admin.accountId, administrationRoleName)) {
    return `${assumeExecution}: its trust policy does not trust the administrator account ${admin.accountId}`;
  }
  return undefined;
}

/**
 * Whether a trust policy lets the administrator account assume the role: a RAM principal naming the account
 * (`<id>` or `acs:ram::<id>:root`) or its administration role (`acs:ram::<id>:role/<name>`).
 */
function trustsAccount(trust: PolicyDocument, accountId: string, administrationRoleName: string): boolean {
  const callers = [
    accountId,
    `acs:ram::${accountId}:root`,
    `acs:ram::${accountId}:role/${administrationRoleName}`,
  ];
  return trust.Statement.some((s) => {
    if (s.Effect !== 'Allow') {
      return false;
    }
    const actions = typeof s.Action === 'string' ? [s.Action] : s.Action;
    if (!actions.some((a) => wildcardMatch(a, 'sts:AssumeRole', true))) {
      return false;
    }
    const ram = s.Principal?.RAM;
    const principals = ram === undefined ? [] : typeof ram === 'string' ? [ram] : ram;
    return principals.some((p) => callers.some((c) => wildcardMatch(p, c, false)));
  });
}
