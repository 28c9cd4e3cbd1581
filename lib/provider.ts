/**
 * The per-stack provider of every ImageCopy: a RAM role that Function Compute assumes, with exactly the actions
 * the handler calls, and an FC 3.0 function whose code is the bundled handler, inlined as `Code.ZipFile` (no OSS
 * bucket, no asset upload).
 */
import * as fs from 'fs';
import * as ros from '@alicloud/ros-cdk-core';
import { HANDLER_RAM_ACTIONS, type HandlerRamAction } from './handler/policy';
import { handlerZipPath } from './package-root';

/**
 * Environment variable that points the provider at another handler bundle than `dist/handler/handler.zip`
 * (a custom build, or a test fixture).
 */
export const HANDLER_ZIP_ENVIRONMENT_VARIABLE = 'ROS_CDK_IMAGE_COPY_HANDLER_ZIP';

/** Prefix of the role, policy and function names; the rest is the stack's id (a UUID), known at deploy time. */
export const PROVIDER_NAME_PREFIX = 'ros-cdk-image-copy-';

/**
 * Seconds one invocation of the handler may run. Copies take longer than this; the handler re-invokes itself
 * before its deadline, so the value only bounds one slice of the work.
 */
export const PROVIDER_FUNCTION_TIMEOUT_SECONDS = 600;

/** Memory of the handler function, MB: the handler holds a few small JSON documents, no image data. */
export const PROVIDER_FUNCTION_MEMORY_MB = 256;

/** The handler's entry point inside the zip (`index.js`, export `handler`). */
export const PROVIDER_FUNCTION_HANDLER = 'index.handler';

/** Function Compute runtime of the handler. */
export const PROVIDER_FUNCTION_RUNTIME = 'nodejs20';

/** The service that assumes the role. */
export const FUNCTION_COMPUTE_SERVICE = 'fc.aliyuncs.com';

/**
 * The provider that serves every {@link ImageCopy} of a stack: one RAM role and one `ALIYUN::FC3::Function`,
 * created once per stack (however many copies it holds) by {@link ImageCopyProvider.getOrCreate}.
 *
 * Names cannot collide: the role and its policy (global to the account) and the function (per region) are named
 * `ros-cdk-image-copy-<StackId>`, where `<StackId>` is `ALIYUN::StackId`, a UUID that ROS assigns at deploy time.
 * Two stacks of the same name in two regions, or two stacks in one region, therefore get different names.
 *
 * The role trusts `fc.aliyuncs.com` and allows exactly the actions the handler calls, each on what its RAM
 * authorization table allows (`HANDLER_ACTION_RESOURCES` in `lib/provider.ts`): the ECS image and tag actions on the account's
 * images in every region (a copy reads the source region and writes the destination region); `ecs:CopyImage` and
 * `fc:InvokeFunction` (the handler continues long copies by invoking itself) on `*`, the only grant RAM honours
 * for them.
 */
export class ImageCopyProvider extends ros.Construct {
  /** The construct id of the provider under its stack. */
  public static readonly CONSTRUCT_ID = 'ImageCopyProvider';

  /** Logical id of the RAM role (logical ids in ROS CDK are construct ids, so it names its purpose in full). */
  public static readonly ROLE_LOGICAL_ID = 'ImageCopyProviderRole';

  /** Logical id of the FC 3.0 function. */
  public static readonly FUNCTION_LOGICAL_ID = 'ImageCopyProviderFunction';

  /**
   * The provider of the stack that holds `scope`, created on first use.
   *
   * @param scope any construct inside the stack
   */
  public static getOrCreate(scope: ros.Construct): ImageCopyProvider {
    const stack = ros.Stack.of(scope);
    const existing = stack.node.tryFindChild(ImageCopyProvider.CONSTRUCT_ID);
    if (existing === undefined) {
      return new ImageCopyProvider(stack, ImageCopyProvider.CONSTRUCT_ID);
    }
    if (!(existing instanceof ImageCopyProvider)) {
      throw new Error(
        `The construct id "${ImageCopyProvider.CONSTRUCT_ID}" under stack ${stack.node.path} is taken by another ` +
          'construct; ros-cdk-image-copy reserves it for its provider. Rename that construct.',
      );
    }
    return existing;
  }

  /** The RAM role the handler runs with. */
  public readonly role: ros.RosResource;

  /** The Function Compute 3.0 function that runs the handler. */
  public readonly handlerFunction: ros.RosResource;

  /** The function's ARN, the `ServiceToken` of every ImageCopy in the stack. */
  public readonly serviceToken: string;

  /** The name of the role, the policy and the function: `ros-cdk-image-copy-<StackId>` (resolved at deploy). */
  public readonly physicalName: string;

  private constructor(scope: ros.Construct, id: string) {
    super(scope, id);
    const stackId = ros.RosPseudo.stackId;
    const accountId = ros.RosPseudo.accountId;
    this.physicalName = ros.Fn.join('', [PROVIDER_NAME_PREFIX, stackId]);

    // Written with the core's RosResource (ALIYUN::RAM::Role, ALIYUN::FC3::Function) rather than the L1 classes of
    // @alicloud/ros-cdk-ram and -fc3: the same template, without loading those packages on every synth.
    this.role = new ros.RosResource(this, ImageCopyProvider.ROLE_LOGICAL_ID, {
      type: 'ALIYUN::RAM::Role',
      properties: {
        AssumeRolePolicyDocument: {
          Version: '1',
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: [FUNCTION_COMPUTE_SERVICE] } },
          ],
        },
        RoleName: this.physicalName,
        Description: 'Assumed by the ros-cdk-image-copy handler (Function Compute) to copy ECS images.',
        Policies: [
          {
            Description:
              'What the ros-cdk-image-copy handler calls: ECS image actions and its own continuation.',
            PolicyName: this.physicalName,
            PolicyDocument: { Version: '1', Statement: handlerPolicyStatements(accountId) },
          },
        ],
      },
    });

    this.handlerFunction = new ros.RosResource(this, ImageCopyProvider.FUNCTION_LOGICAL_ID, {
      type: 'ALIYUN::FC3::Function',
      properties: {
        FunctionName: this.physicalName,
        Handler: PROVIDER_FUNCTION_HANDLER,
        Runtime: PROVIDER_FUNCTION_RUNTIME,
        Code: { ZipFile: readHandlerBundle().toString('base64') },
        Description: 'ros-cdk-image-copy: copies ECS images for the ALIYUN::ROS::CustomResource ImageCopy.',
        InternetAccess: true,
        MemorySize: PROVIDER_FUNCTION_MEMORY_MB,
        Role: this.role.getAtt('Arn'),
        Timeout: PROVIDER_FUNCTION_TIMEOUT_SECONDS,
      },
    });
    // The function's Role is a Fn::GetAtt of the role, so ROS creates the role first; say so explicitly too.
    this.handlerFunction.addRosDependency(this.role.logicalId);
    this.serviceToken = ros.Token.asString(this.handlerFunction.getAtt('ARN'));
  }

  private stackGroupsEnabled = false;

  /**
   * Lets the handler run `ImageDistribution`s: a second policy on the role with the stack group actions
   * (`STACK_GROUP_ACTION_RESOURCES`) and Resource Manager's `ListAccountsForParent`. Added once, and only to
   * the provider of a stack that has an ImageDistribution.
   */
  public enableStackGroups(): void {
    if (this.stackGroupsEnabled) {
      return;
    }
    this.stackGroupsEnabled = true;
    this.role.addPropertyOverride('Policies.1', {
      Description: 'What the ros-cdk-image-copy handler calls for an ImageDistribution: ROS stack groups.',
      PolicyName: ros.Fn.join('', [this.physicalName, '-stack-groups']),
      PolicyDocument: { Version: '1', Statement: stackGroupPolicyStatements(ros.RosPseudo.accountId) },
    });
  }
}

/**
 * Where the role may perform each action the handler calls, as narrow as the action's "RAM authorization" table
 * (in its API reference) allows:
 *
 * - `account-images`: the account's images in any region, `acs:ecs:*:<account>:image/*`. DeleteImage,
 *   CancelCopyImage and ModifyImageAttribute take an image (`acs:ecs:{#regionId}:{#accountId}:image/{#imageId}`);
 *   DescribeImages takes `image/*` or `image/{#imageId}`; ModifyImageSharePermission and DescribeImageSharePermission
 *   (sharing, `SharedWithAccounts`) take an image (`acs:ecs:{#regionId}:{#accountId}:image/{#imageId}`, their API
 *   references); TagResources, UntagResources and JoinResourceGroup take
 *   an image among other resource types. Any region, because one copy reads the source region and writes the
 *   destination region, and `ImageReplication` spans many.
 * - `all-resources`: `*`, for an action with no resource-level authorization, where a statement naming a resource
 *   is ineffective. FC 3.0 InvokeFunction is "All Resources". CopyImage's table reads
 *   `acs:ecs:{#regionId}:{#accountId}:image/*` today and read "All Resources" in an earlier revision; only `*`
 *   is effective under both. CopyImage creates an image; it cannot act on anything but images either way.
 *
 * The tables (see README, "Least privilege"):
 * https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-ram and
 * https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/developer-reference/api-fc-2023-03-30-invokefunction.
 */
export const HANDLER_ACTION_RESOURCES: Readonly<
  Record<HandlerRamAction, 'account-images' | 'all-resources'>
> = {
  'ecs:CopyImage': 'all-resources',
  'ecs:DescribeImages': 'account-images',
  'ecs:CancelCopyImage': 'account-images',
  'ecs:DeleteImage': 'account-images',
  'ecs:ModifyImageAttribute': 'account-images',
  'ecs:TagResources': 'account-images',
  'ecs:UntagResources': 'account-images',
  'ecs:JoinResourceGroup': 'account-images',
  'ecs:ModifyImageSharePermission': 'account-images',
  'ecs:DescribeImageSharePermission': 'account-images',
  'fc:InvokeFunction': 'all-resources',
};

/** One statement of a RAM policy document, as the template spells it. */
interface PolicyStatement {
  readonly Action: readonly string[];
  readonly Resource: readonly unknown[];
  readonly Effect: 'Allow';
}

/** The role's policy: one statement per kind of resource (see {@link HANDLER_ACTION_RESOURCES}). */
function handlerPolicyStatements(accountId: string): PolicyStatement[] {
  const actionsOn = (scope: 'account-images' | 'all-resources') =>
    HANDLER_RAM_ACTIONS.filter((action) => HANDLER_ACTION_RESOURCES[action] === scope);
  const statements: PolicyStatement[] = [];
  const imageActions = actionsOn('account-images');
  if (imageActions.length > 0) {
    statements.push({
      Action: [...imageActions],
      Resource: [ros.Fn.join(':', ['acs', 'ecs', '*', accountId, 'image/*'])],
      Effect: 'Allow',
    });
  }
  const unscopedActions = actionsOn('all-resources');
  if (unscopedActions.length > 0) {
    statements.push({ Action: [...unscopedActions], Resource: ['*'], Effect: 'Allow' });
  }
  return statements;
}

/** The bundled handler zip, read at synth; a missing bundle fails synth with what to do about it. */
function readHandlerBundle(): Buffer {
  const zipPath = process.env[HANDLER_ZIP_ENVIRONMENT_VARIABLE]?.trim() || handlerZipPath();
  try {
    return fs.readFileSync(zipPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `The ImageCopy handler bundle was not found at ${zipPath}. Run \`npm run build\` to create it.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The actions the handler calls for an `ImageDistribution` and where, from their "RAM authorization" tables:
 *
 * - `account-stack-groups`: the account's stack groups in any region, `acs:ros:*:<account>:stackgroup/*`. The tables
 *   of CreateStackGroup, UpdateStackGroup, DeleteStackGroup, GetStackGroup, CreateStackInstances,
 *   DeleteStackInstances, GetStackInstance and ListStackInstances name the resource type StackGroup
 *   (`acs:ros:{#regionId}:{#accountId}:stackgroup/{#StackGroupName}`) and no dependent action: in particular no
 *   `ram:PassRole` for the administration and execution roles
 *   (https://www.alibabacloud.com/help/en/ros/developer-reference/api-ros-2019-09-10-createstackgroup,
 *   https://www.alibabacloud.com/help/en/ros/developer-reference/api-ros-2019-09-10-createstackinstances), so none is
 *   granted.
 * - `all-resources`: GetStackGroupOperation and ListStackGroupOperationResults take an operation id, not a group;
 *   Resource Manager ListAccountsForParent (folders of `targetFolderIds`) is authorized on the resource directory.
 *   `*` is effective whichever the tables name.
 */
export const STACK_GROUP_ACTION_RESOURCES: Readonly<
  Record<string, 'account-stack-groups' | 'all-resources'>
> = {
  'ros:CreateStackGroup': 'account-stack-groups',
  'ros:UpdateStackGroup': 'account-stack-groups',
  'ros:DeleteStackGroup': 'account-stack-groups',
  'ros:GetStackGroup': 'account-stack-groups',
  'ros:CreateStackInstances': 'account-stack-groups',
  'ros:DeleteStackInstances': 'account-stack-groups',
  'ros:GetStackInstance': 'account-stack-groups',
  'ros:ListStackInstances': 'account-stack-groups',
  'ros:GetStackGroupOperation': 'all-resources',
  'ros:ListStackGroupOperationResults': 'all-resources',
  'resourcemanager:ListAccountsForParent': 'all-resources',
};

/** The stack group policy: one statement per kind of resource (see {@link STACK_GROUP_ACTION_RESOURCES}). */
function stackGroupPolicyStatements(accountId: string): PolicyStatement[] {
  const actionsOn = (scope: 'account-stack-groups' | 'all-resources') =>
    Object.keys(STACK_GROUP_ACTION_RESOURCES).filter(
      (action) => STACK_GROUP_ACTION_RESOURCES[action] === scope,
    );
  return [
    {
      Action: actionsOn('account-stack-groups'),
      Resource: [ros.Fn.join(':', ['acs', 'ros', '*', accountId, 'stackgroup/*'])],
      Effect: 'Allow',
    },
    { Action: actionsOn('all-resources'), Resource: ['*'], Effect: 'Allow' },
  ];
}
