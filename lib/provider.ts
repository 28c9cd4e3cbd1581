/**
 * The per-stack provider of every ImageCopy: a RAM role that Function Compute assumes, with exactly the actions
 * the handler calls, and an FC 3.0 function whose code is the bundled handler, inlined as `Code.ZipFile` (no OSS
 * bucket, no asset upload).
 */
import * as fs from 'fs';
import * as ros from '@alicloud/ros-cdk-core';
import * as fc3 from '@alicloud/ros-cdk-fc3';
import * as ram from '@alicloud/ros-cdk-ram';
import { HANDLER_RAM_ACTIONS } from './handler/policy';
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
 * The role trusts `fc.aliyuncs.com` and allows exactly the actions the handler calls: the ECS image and tag
 * actions on the account's images in every region (a copy reads the source region and writes the destination
 * region), and `fc:InvokeFunction` on this function only (the handler continues long copies by invoking itself).
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
  public readonly role: ram.RosRole;

  /** The Function Compute 3.0 function that runs the handler. */
  public readonly handlerFunction: fc3.RosFunction;

  /** The function's ARN, the `ServiceToken` of every ImageCopy in the stack. */
  public readonly serviceToken: string;

  /** The name of the role, the policy and the function: `ros-cdk-image-copy-<StackId>` (resolved at deploy). */
  public readonly physicalName: string;

  private constructor(scope: ros.Construct, id: string) {
    super(scope, id);
    const stackId = ros.RosPseudo.stackId;
    const accountId = ros.RosPseudo.accountId;
    this.physicalName = ros.Fn.join('', [PROVIDER_NAME_PREFIX, stackId]);

    this.role = new ram.RosRole(
      this,
      ImageCopyProvider.ROLE_LOGICAL_ID,
      {
        roleName: this.physicalName,
        description: 'Assumed by the ros-cdk-image-copy handler (Function Compute) to copy ECS images.',
        assumeRolePolicyDocument: {
          version: '1',
          statement: [
            { action: 'sts:AssumeRole', effect: 'Allow', principal: { service: [FUNCTION_COMPUTE_SERVICE] } },
          ],
        },
        policies: [
          {
            policyName: this.physicalName,
            description:
              'What the ros-cdk-image-copy handler calls: ECS image actions and its own continuation.',
            policyDocument: {
              version: '1',
              statement: handlerPolicyStatements(this.physicalName, accountId),
            },
          },
        ],
      },
      true,
    );

    this.handlerFunction = new fc3.RosFunction(
      this,
      ImageCopyProvider.FUNCTION_LOGICAL_ID,
      {
        functionName: this.physicalName,
        description: 'ros-cdk-image-copy: copies ECS images for the ALIYUN::ROS::CustomResource ImageCopy.',
        runtime: PROVIDER_FUNCTION_RUNTIME,
        handler: PROVIDER_FUNCTION_HANDLER,
        code: { zipFile: readHandlerBundle().toString('base64') },
        role: this.role.attrArn,
        timeout: PROVIDER_FUNCTION_TIMEOUT_SECONDS,
        memorySize: PROVIDER_FUNCTION_MEMORY_MB,
        internetAccess: true,
      },
      true,
    );
    // The function's Role is a Fn::GetAtt of the role, so ROS creates the role first; say so explicitly too.
    this.handlerFunction.addRosDependency(this.role.logicalId);
    this.serviceToken = ros.Token.asString(this.handlerFunction.attrArn);
  }
}

/**
 * The role's policy: every action the handler calls, grouped by where it applies. ECS actions apply to the
 * account's images in any region, because one copy reads in the source region and writes in the destination
 * region, and `ImageReplication` spans many regions; `fc:InvokeFunction` applies to this provider's own function.
 */
function handlerPolicyStatements(
  functionName: string,
  accountId: string,
): ram.RosRole.PolicyDocumentStatementProperty[] {
  const ecsActions = HANDLER_RAM_ACTIONS.filter((action) => action.startsWith('ecs:'));
  const fcActions = HANDLER_RAM_ACTIONS.filter((action) => action.startsWith('fc:'));
  const otherActions = HANDLER_RAM_ACTIONS.filter(
    (action) => !ecsActions.includes(action) && !fcActions.includes(action),
  );
  if (otherActions.length > 0) {
    // A new kind of action needs a decision about its resources; never grant it on "*" by accident.
    throw new Error(
      `ImageCopyProvider does not know which resources to grant ${otherActions.join(', ')} on.`,
    );
  }
  const statements: ram.RosRole.PolicyDocumentStatementProperty[] = [];
  if (ecsActions.length > 0) {
    statements.push({
      effect: 'Allow',
      action: [...ecsActions],
      resource: [ros.Fn.join(':', ['acs', 'ecs', '*', accountId, 'image/*'])],
    });
  }
  if (fcActions.length > 0) {
    statements.push({
      effect: 'Allow',
      action: [...fcActions],
      resource: [
        ros.Fn.join('', ['acs:fc:', ros.RosPseudo.region, ':', accountId, ':functions/', functionName]),
      ],
    });
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
