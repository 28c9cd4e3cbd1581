/**
 * The CDK app the lifecycle tests deploy with `ros-deploy`: one stack of `ImageCopy` and `ImageReplication`
 * constructs, as a user writes them, described by `lifecycle.json` in the working directory so that each step of a
 * test rewrites that file and deploys again. Every copy's image id is a stack output (`<CopyId>ImageId`, and
 * `<ReplicationId><Region>ImageId` for each region of a replication).
 *
 *   node --require examples/ts-register.js test/lifecycle/app.ts
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy, ImageReplication } from '../../lib';

/** One `ImageCopy`. */
export interface CopySpec {
  readonly sourceImageId: string;
  readonly sourceRegionId: string;
  readonly destinationRegionId: string;
  readonly imageName?: string;
  readonly tags?: Record<string, string>;
  readonly encrypted?: boolean;
  readonly existingImageId?: string;
  /** `timeouts.create`, minutes. */
  readonly createTimeoutMinutes?: number;
}

/** One `ImageReplication`. */
export interface ReplicationSpec {
  readonly sourceImageId: string;
  readonly sourceRegionId: string;
  readonly destinationRegionIds: string[];
  readonly imageName?: string;
  readonly tags?: Record<string, string>;
  readonly encrypted?: boolean;
  /** `timeouts.create`, minutes. */
  readonly createTimeoutMinutes?: number;
}

/** What `lifecycle.json` holds. */
export interface LifecycleSpec {
  readonly stackName: string;
  readonly copies: Record<string, CopySpec>;
  readonly replications: Record<string, ReplicationSpec>;
}

export const SPEC_FILE = 'lifecycle.json';

const outputId = (...parts: string[]): string =>
  parts.map((part) => part.replace(/(^|-)([a-z0-9])/g, (_m, _dash, c: string) => c.toUpperCase())).join('');

/** The name of the stack output that carries a copy's image id. */
export const imageOutput = (copyId: string, regionId?: string): string =>
  outputId(copyId, ...(regionId ? [regionId] : []), 'ImageId');

function timeouts(minutes: number | undefined) {
  return minutes === undefined ? {} : { timeouts: { create: minutes } };
}

export function synthesize(spec: LifecycleSpec, app: ros.App): void {
  const stack = new ros.Stack(app, spec.stackName);
  for (const [id, copy] of Object.entries(spec.copies)) {
    const construct = new ImageCopy(stack, id, {
      sourceImageId: copy.sourceImageId,
      sourceRegionId: copy.sourceRegionId,
      destinationRegionId: copy.destinationRegionId,
      ...(copy.imageName !== undefined && { imageName: copy.imageName }),
      ...(copy.tags && { tags: copy.tags }),
      ...(copy.encrypted !== undefined && { encrypted: copy.encrypted }),
      ...(copy.existingImageId !== undefined && { existingImageId: copy.existingImageId }),
      ...timeouts(copy.createTimeoutMinutes),
    });
    new ros.RosOutput(stack, imageOutput(id), { value: construct.attrImageId });
  }
  for (const [id, replication] of Object.entries(spec.replications)) {
    const construct = new ImageReplication(stack, id, {
      sourceImageId: replication.sourceImageId,
      sourceRegionId: replication.sourceRegionId,
      destinationRegionIds: replication.destinationRegionIds,
      ...(replication.imageName !== undefined && { imageName: replication.imageName }),
      ...(replication.tags && { tags: replication.tags }),
      ...(replication.encrypted !== undefined && { encrypted: replication.encrypted }),
      ...timeouts(replication.createTimeoutMinutes),
    });
    for (const regionId of replication.destinationRegionIds) {
      new ros.RosOutput(stack, imageOutput(id, regionId), { value: construct.imageIdIn(regionId) });
    }
  }
}

if (require.main === module) {
  const spec = JSON.parse(fs.readFileSync(path.join(process.cwd(), SPEC_FILE), 'utf8')) as LifecycleSpec;
  const app = new ros.App();
  synthesize(spec, app);
  app.synth();
}
