/**
 * `ALIYUN::FC3::Function` (https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-fc3-function):
 * creates or updates a function in LocalCloud's Function Compute from inline code (`Code.ZipFile`, or
 * `Code.SourceCode` written to the handler's file); a new `FunctionName` replaces it. Properties LocalCloud does not
 * run (containers, layers, VPC, mounts, GPUs) are refused rather than ignored.
 */
import { writeZip } from '../../../zip';
import { ApiError } from '../../errors';
import type { FunctionSpec } from '../../fc';
import {
  optionalNumber,
  requireString,
  ResourceError,
  type CloudServices,
  type ProvisionContext,
  type Provisioned,
  type ResourceHandler,
} from './handler';

const UNSUPPORTED_FUNCTION_PROPERTIES = [
  'CustomContainerConfig',
  'CustomRuntimeConfig',
  'GpuConfig',
  'Layers',
  'NasConfig',
  'OssMountConfig',
  'VpcConfig',
];

/** `ALIYUN::FC3::Function`: the function named `FunctionName`. */
export class FunctionHandler implements ResourceHandler {
  readonly replacementProperties = ['FunctionName'];
  constructor(private readonly cloud: CloudServices) {}

  async create(ctx: ProvisionContext, p: Record<string, unknown>): Promise<Provisioned> {
    const spec = this.spec(p);
    this.call(() => this.cloud.fc.createFunction(ctx.regionId, spec));
    return this.describe(ctx, spec.functionName);
  }

  async update(
    ctx: ProvisionContext,
    current: Provisioned,
    p: Record<string, unknown>,
  ): Promise<Provisioned> {
    const spec = this.spec(p);
    this.call(() => this.cloud.fc.updateFunction(ctx.regionId, current.physicalId, spec));
    return this.describe(ctx, current.physicalId);
  }

  async delete(ctx: ProvisionContext, current: Provisioned | undefined): Promise<void> {
    if (current && this.cloud.fc.getFunction(ctx.regionId, current.physicalId)) {
      this.cloud.fc.deleteFunction(ctx.regionId, current.physicalId);
    }
  }

  private spec(p: Record<string, unknown>): FunctionSpec {
    const unsupported = UNSUPPORTED_FUNCTION_PROPERTIES.filter((name) => p[name] !== undefined);
    if (unsupported.length > 0) {
      throw new ResourceError(`${unsupported.join(', ')} not supported by LocalCloud`);
    }
    const code = (p.Code ?? {}) as Record<string, unknown>;
    let zipFile: string;
    if (typeof code.ZipFile === 'string') {
      zipFile = code.ZipFile;
    } else if (typeof code.SourceCode === 'string') {
      // ROS writes SourceCode to a file named after the handler's module (index for index.handler).
      const handler = requireString(p, 'Handler');
      const file = `${handler.slice(0, handler.lastIndexOf('.'))}.js`;
      zipFile = writeZip([{ name: file, data: Buffer.from(code.SourceCode) }]).toString('base64');
    } else {
      throw new ResourceError('Code needs ZipFile or SourceCode (LocalCloud does not fetch code from OSS)');
    }
    return {
      functionName: requireString(p, 'FunctionName'),
      runtime: requireString(p, 'Runtime'),
      handler: requireString(p, 'Handler'),
      zipFile,
      timeout: optionalNumber(p, 'Timeout'),
      memorySize: optionalNumber(p, 'MemorySize'),
      role: typeof p.Role === 'string' ? p.Role : undefined,
      environmentVariables: p.EnvironmentVariables as Record<string, string> | undefined,
      description: typeof p.Description === 'string' ? p.Description : undefined,
    };
  }

  private call<T>(action: () => T): T {
    try {
      return action();
    } catch (err) {
      if (err instanceof ApiError) {
        throw new ResourceError(`${err.code}: ${err.message}`);
      }
      throw err;
    }
  }

  private describe(ctx: ProvisionContext, functionName: string): Provisioned {
    const fn = this.cloud.fc.getFunction(ctx.regionId, functionName)!;
    return {
      physicalId: functionName,
      attributes: { ARN: fn.functionArn, FunctionId: fn.functionId, FunctionName: functionName },
    };
  }
}
