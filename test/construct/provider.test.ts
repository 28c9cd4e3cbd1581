import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy, ImageCopyProvider } from '../../lib';
import { HANDLER_RAM_ACTIONS } from '../../lib/handler/policy';
import { handlerZipPath } from '../../lib/package-root';
import {
  HANDLER_ACTION_RESOURCES,
  HANDLER_ZIP_ENVIRONMENT_VARIABLE,
  PROVIDER_NAME_PREFIX,
} from '../../lib/provider';
import { writeZip } from '../../lib/zip';
import { Match, newStack, Template } from './template';

const SOURCE = { sourceImageId: 'm-bp1golden', sourceRegionId: 'cn-hangzhou' } as const;
const ROLE = 'ALIYUN::RAM::Role';
const FUNCTION = 'ALIYUN::FC3::Function';
const CUSTOM_RESOURCE = 'ALIYUN::ROS::CustomResource';

/** `ros-cdk-image-copy-<StackId>`: unique per stack in every region and account. */
const PHYSICAL_NAME = { 'Fn::Join': ['', [PROVIDER_NAME_PREFIX, { Ref: 'ALIYUN::StackId' }]] };

interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown[];
}

function policyStatements(template: Template): Statement[] {
  const [, role] = template.resource(ROLE);
  const policies = role.Properties!.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  expect(policies).toHaveLength(1);
  return policies[0].PolicyDocument.Statement;
}

function withCopies(count: number, stack = newStack()): ros.Stack {
  for (let i = 0; i < count; i++) {
    new ImageCopy(stack, `Copy${i}`, {
      ...SOURCE,
      destinationRegionId: i % 2 ? 'cn-beijing' : 'cn-shanghai',
    });
  }
  return stack;
}

describe('ImageCopyProvider', () => {
  it('is one role and one function per stack, however many copies it serves', () => {
    const template = Template.fromStack(withCopies(100));
    template.resourceCountIs(ROLE, 1);
    template.resourceCountIs(FUNCTION, 1);
    template.resourceCountIs(CUSTOM_RESOURCE, 100);
    expect(Object.keys(template.resources)).toHaveLength(102);
    for (const [id, resource] of Object.entries(template.findResources(CUSTOM_RESOURCE))) {
      expect([id, resource.Properties!.ServiceToken]).toEqual([
        id,
        { 'Fn::GetAtt': [ImageCopyProvider.FUNCTION_LOGICAL_ID, 'ARN'] },
      ]);
      // Ordered after the function by that GetAtt alone (the function by its Role GetAtt after the role).
      expect([id, resource.DependsOn]).toEqual([id, undefined]);
    }
  });

  it('is shared by copies defined deep inside other constructs of the stack', () => {
    const stack = newStack();
    const outer = new ros.Construct(stack, 'Outer');
    const a = new ImageCopy(new ros.Construct(outer, 'A'), 'CopyA', SOURCE);
    const b = new ImageCopy(new ros.Construct(outer, 'B'), 'CopyB', SOURCE);
    expect(a.provider).toBe(b.provider);
    expect(ImageCopyProvider.getOrCreate(outer)).toBe(a.provider);
    expect(a.provider.node.path).toBe(`${stack.node.path}/${ImageCopyProvider.CONSTRUCT_ID}`);
    Template.fromStack(stack).resourceCountIs(FUNCTION, 1);
  });

  it('is separate for each stack of an app', () => {
    const stack = newStack('First');
    const app = stack.node.scope as ros.App;
    const second = new ros.Stack(app, 'Second');
    const first = new ImageCopy(stack, 'Copy', SOURCE);
    const other = new ImageCopy(second, 'Copy', SOURCE);
    expect(first.provider).not.toBe(other.provider);
    const assembly = app.synth();
    for (const name of ['First', 'Second']) {
      const resources = assembly.getStackByName(name).template.Resources as Record<string, { Type: string }>;
      expect(Object.values(resources).filter((r) => r.Type === FUNCTION)).toHaveLength(1);
    }
  });

  it('is not added to a stack without copies', () => {
    const stack = newStack();
    new ros.RosOutput(stack, 'Nothing', { value: 'here' });
    expect(Template.fromStack(stack).resources).toEqual({});
  });

  it('refuses to take a construct id that something else already uses, saying which', () => {
    const stack = newStack();
    new ros.Construct(stack, ImageCopyProvider.CONSTRUCT_ID);
    expect(() => new ImageCopy(stack, 'Copy', SOURCE)).toThrow(
      `The construct id "ImageCopyProvider" under stack TestStack is taken by another construct`,
    );
  });

  describe('role', () => {
    it('is assumed by Function Compute only', () => {
      const template = Template.fromStack(withCopies(1));
      template.hasResourceProperties(ROLE, {
        AssumeRolePolicyDocument: Match.exact({
          Version: '1',
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } },
          ],
        }),
      });
    });

    it('allows exactly the actions the handler calls (HANDLER_RAM_ACTIONS), each once', () => {
      const statements = policyStatements(Template.fromStack(withCopies(3)));
      const actions = statements.flatMap((s) => s.Action);
      expect([...actions].sort()).toEqual([...HANDLER_RAM_ACTIONS].sort());
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    });

    it("grants the image actions on the account's images (any region: a copy spans two), CopyImage and InvokeFunction on *", () => {
      const statements = policyStatements(Template.fromStack(withCopies(1)));
      expect(statements).toHaveLength(2);
      const [images, unscoped] = statements;
      expect(images.Action).toEqual([
        'ecs:DescribeImages',
        'ecs:CancelCopyImage',
        'ecs:DeleteImage',
        'ecs:ModifyImageAttribute',
        'ecs:TagResources',
        'ecs:UntagResources',
        'ecs:JoinResourceGroup',
        'ecs:ModifyImageSharePermission',
        'ecs:DescribeImageSharePermission',
      ]);
      expect(images.Resource).toEqual([
        { 'Fn::Join': [':', ['acs:ecs:*', { Ref: 'ALIYUN::AccountId' }, 'image/*']] },
      ]);
      // Neither takes resource-level authorization (see HANDLER_ACTION_RESOURCES): a narrower grant is ineffective.
      expect(unscoped.Action).toEqual(['ecs:CopyImage', 'fc:InvokeFunction']);
      expect(unscoped.Resource).toEqual(['*']);
      for (const action of HANDLER_RAM_ACTIONS) {
        const statement = statements.find((s) => s.Action.includes(action))!;
        expect([action, statement === unscoped]).toEqual([
          action,
          HANDLER_ACTION_RESOURCES[action] === 'all-resources',
        ]);
      }
    });
  });

  describe('function', () => {
    it('runs the bundled handler on Node.js 20 with the role, inlined as Code.ZipFile', () => {
      const template = Template.fromStack(withCopies(1));
      const [logicalId, fn] = template.resource(FUNCTION);
      expect(logicalId).toBe(ImageCopyProvider.FUNCTION_LOGICAL_ID);
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs20',
        Handler: 'index.handler',
        Timeout: 600,
        MemorySize: 256,
        InternetAccess: true,
        Role: { 'Fn::GetAtt': [ImageCopyProvider.ROLE_LOGICAL_ID, 'Arn'] },
      });
      const zipFile = (fn.Properties!.Code as { ZipFile: string }).ZipFile;
      expect(Buffer.from(zipFile, 'base64').equals(fs.readFileSync(handlerZipPath()))).toBe(true);
      expect(fn.DependsOn).toEqual([ImageCopyProvider.ROLE_LOGICAL_ID]);
    });
  });

  it('names the role, its policy and the function after ALIYUN::StackId, so stacks never collide', () => {
    const template = Template.fromStack(withCopies(1));
    template.hasResourceProperties(ROLE, {
      RoleName: Match.exact(PHYSICAL_NAME),
      Policies: [{ PolicyName: Match.exact(PHYSICAL_NAME) }],
    });
    template.hasResourceProperties(FUNCTION, { FunctionName: Match.exact(PHYSICAL_NAME) });
    // A stack id is a UUID: the longest name is 19 + 36 characters, within the 64 RAM and FC allow.
    expect(`${PROVIDER_NAME_PREFIX}${'0'.repeat(36)}`).toMatch(/^[a-z][a-z0-9-]{1,63}$/);
  });

  describe('handler bundle', () => {
    const saved = process.env[HANDLER_ZIP_ENVIRONMENT_VARIABLE];
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-copy-bundle-'));
    });
    afterEach(() => {
      if (saved === undefined) {
        delete process.env[HANDLER_ZIP_ENVIRONMENT_VARIABLE];
      } else {
        process.env[HANDLER_ZIP_ENVIRONMENT_VARIABLE] = saved;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it(`comes from ${HANDLER_ZIP_ENVIRONMENT_VARIABLE} when set`, () => {
      const zip = writeZip([{ name: 'index.js', data: Buffer.from('exports.handler = async () => {};') }]);
      const file = path.join(dir, 'custom.zip');
      fs.writeFileSync(file, zip);
      process.env[HANDLER_ZIP_ENVIRONMENT_VARIABLE] = file;
      Template.fromStack(withCopies(1)).hasResourceProperties(FUNCTION, {
        Code: Match.exact({ ZipFile: zip.toString('base64') }),
      });
    });

    it('fails synth with what to do when it is missing', () => {
      const missing = path.join(dir, 'not-built', 'handler.zip');
      process.env[HANDLER_ZIP_ENVIRONMENT_VARIABLE] = missing;
      expect(() => withCopies(1)).toThrow(
        `The ImageCopy handler bundle was not found at ${missing}. Run \`npm run build\` to create it.`,
      );
    });
  });
});
