/**
 * A new TypeScript app that uses ros-cdk-image-copy, written into a directory (`ros-deploy init`): its package.json
 * (this package and the ROS CDK packages at the versions this package is tested with, TypeScript and jest), its
 * tsconfig, a stack with an ImageCopy of LocalCloud's seeded image, `cdk.json`, a jest test of the template, a
 * `.gitignore` and a README. `npm install && npx ros-deploy deploy --local` deploys it.
 *
 * The app runs its TypeScript without a build step and without a global install: `cdk.json` runs
 * `node --require ./register-ts.js bin/app.ts`, a hook of a few lines that transpiles each `.ts` file with the
 * TypeScript compiler the app depends on anyway (for `tsc` and ts-jest). It checks no types, so synthesis stays fast;
 * `npm run build` (tsc) and `npm test` (ts-jest) check them. It works on Node 20, which cannot strip types itself.
 */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../package-root';
import { DeployError } from './errors';

export interface InitOptions {
  /** Where to write the app; created when missing. */
  readonly directory: string;
  /** Write into a directory that is not empty (files of the same name are replaced, others left alone). */
  readonly force?: boolean;
}

export interface InitResult {
  readonly directory: string;
  /** The package name, from the directory's name. */
  readonly name: string;
  /** The stack the app defines. */
  readonly stackName: string;
  /** The files written, relative to the directory. */
  readonly files: string[];
}

/** The image LocalCloud seeds in cn-hangzhou (lib/local/ecs/images.ts), so the app deploys to it as written. */
export const SEEDED_IMAGE = { imageId: 'm-bp1seedgoldenimage01', regionId: 'cn-hangzhou' } as const;

/** The packages the app needs besides ros-cdk-image-copy: its peers, then the tools. */
const TOOLS = ['typescript', 'jest', 'ts-jest', '@types/jest', '@types/node'] as const;

/**
 * Writes the app (see the module comment). Throws `DirectoryNotEmpty` for a directory that holds anything, unless
 * `force`.
 */
export function initApp(options: InitOptions): InitResult {
  const directory = path.resolve(options.directory);
  const present = fs.existsSync(directory) ? fs.readdirSync(directory) : [];
  if (present.length > 0 && !options.force) {
    const shown = present.slice(0, 5).join(', ') + (present.length > 5 ? ', …' : '');
    throw new DeployError(
      'DirectoryNotEmpty',
      (w) =>
        `${directory} is not empty (${shown}): a new app is written into an empty directory; pass ` +
        `${w.option('force')} to write into it anyway (files of the same names are replaced)`,
    );
  }
  const name = packageName(path.basename(directory));
  const stackName = stackNameOf(path.basename(directory));
  const files = appFiles(name, stackName);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(directory, file)), { recursive: true });
    fs.writeFileSync(path.join(directory, file), text);
  }
  return { directory, name, stackName, files: Object.keys(files) };
}

/** This package's manifest: its name, version, peers and the versions it is tested with (devDependencies). */
function manifest(): {
  name: string;
  version: string;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
} {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
}

function appFiles(name: string, stackName: string): Record<string, string> {
  const own = manifest();
  const tested = (pkg: string) => own.devDependencies[pkg] ?? own.peerDependencies[pkg];
  const peers = Object.keys(own.peerDependencies).sort();
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  return {
    'package.json': json({
      name,
      version: '0.1.0',
      private: true,
      scripts: {
        build: 'tsc',
        test: 'jest',
        synth: 'ros-deploy synth',
        'deploy:local': 'ros-deploy deploy --local',
        'destroy:local': 'ros-deploy destroy --local --force',
      },
      dependencies: {
        [own.name]: `^${own.version}`,
        ...Object.fromEntries(peers.map((pkg) => [pkg, tested(pkg)])),
      },
      devDependencies: Object.fromEntries(TOOLS.map((pkg) => [pkg, tested(pkg)])),
    }),
    'tsconfig.json': json({
      compilerOptions: {
        target: 'ES2022',
        module: 'commonjs',
        lib: ['ES2022'],
        types: ['node', 'jest'],
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        noEmit: true,
      },
      include: ['bin', 'lib', 'test'],
    }),
    'cdk.json': json({ app: 'node --require ./register-ts.js bin/app.ts' }),
    'register-ts.js': REGISTER_TS,
    'jest.config.js': JEST_CONFIG,
    'bin/app.ts': appSource(stackName),
    'lib/image-copy-stack.ts': STACK_SOURCE,
    'test/image-copy-stack.test.ts': testSource(),
    '.gitignore': ['node_modules/', 'cdk.out/', '.ros-local/', 'outputs.json', ''].join('\n'),
    'README.md': readme(name, stackName),
  };
}

/** A package name from a directory name: lower case, npm's characters; `image-copy-app` when none is left. */
function packageName(base: string): string {
  const cleaned = base
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|[-]+$/g, '');
  return cleaned || 'image-copy-app';
}

/** A stack name from a directory name (`my-images` → `MyImages`), within ROS's rule for stack names. */
function stackNameOf(base: string): string {
  const words = base.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return name ? name.slice(0, 255) : 'ImageCopyApp';
}

const REGISTER_TS = `'use strict';
/**
 * Lets node run this app's TypeScript without a build step (cdk.json: node --require ./register-ts.js bin/app.ts):
 * each .ts file is transpiled when it is required, with the TypeScript compiler this app depends on. Types are not
 * checked here, so synthesis stays fast: \`npm run build\` and \`npm test\` check them.
 */
const fs = require('fs');
const ts = require('typescript');

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
    },
  });
  module._compile(outputText, filename);
};
`;

const JEST_CONFIG = `/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\\\.ts$': 'ts-jest' },
};
`;

function appSource(stackName: string): string {
  return `import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopyStack } from '../lib/image-copy-stack';

const app = new ros.App();

new ImageCopyStack(app, '${stackName}', {
  // The image LocalCloud seeds, so \`npx ros-deploy deploy --local\` deploys this app as it is. For the real cloud,
  // name one of your own custom images and its region (or pass them as context: -c sourceImageId=m-...).
  sourceImageId: app.node.tryGetContext('sourceImageId') ?? '${SEEDED_IMAGE.imageId}',
  sourceRegionId: app.node.tryGetContext('sourceRegionId') ?? '${SEEDED_IMAGE.regionId}',
  destinationRegionId: app.node.tryGetContext('destinationRegionId') ?? 'cn-shanghai',
  imageName: '${stackName.toLowerCase().slice(0, 100)}-copy',
});

app.synth();
`;
}

const STACK_SOURCE = `import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy } from 'ros-cdk-image-copy';

export interface ImageCopyStackProps extends ros.StackProps {
  /** The custom image to copy (m-...). */
  readonly sourceImageId: string;
  /** The region it is in. */
  readonly sourceRegionId: string;
  /** The region to copy it into. */
  readonly destinationRegionId: string;
  /** The copy's name. */
  readonly imageName: string;
}

/** One image copied into another region, the copy's id and region as outputs. */
export class ImageCopyStack extends ros.Stack {
  readonly copy: ImageCopy;

  constructor(scope: ros.Construct, id: string, props: ImageCopyStackProps) {
    super(scope, id, props);
    this.copy = new ImageCopy(this, 'Copy', {
      sourceImageId: props.sourceImageId,
      sourceRegionId: props.sourceRegionId,
      destinationRegionId: props.destinationRegionId,
      imageName: props.imageName,
    });
    new ros.RosOutput(this, 'ImageId', { value: this.copy.attrImageId, description: 'The copied image' });
    new ros.RosOutput(this, 'RegionId', { value: this.copy.attrRegionId, description: 'Where the copy is' });
  }
}
`;

function testSource(): string {
  return `import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopyStack } from '../lib/image-copy-stack';

interface Resource {
  Type: string;
  Properties?: Record<string, any>;
}

/** The stack's template, synthesized into a temporary directory. */
function template(): { Resources: Record<string, Resource>; Outputs: Record<string, unknown> } {
  const app = new ros.App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'image-copy-stack-')) });
  const stack = new ImageCopyStack(app, 'TestStack', {
    sourceImageId: 'm-bp1testimage000001',
    sourceRegionId: 'cn-hangzhou',
    destinationRegionId: 'cn-shanghai',
    imageName: 'test-copy',
  });
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  return JSON.parse(fs.readFileSync(path.join(assembly.directory, artifact.templateFile), 'utf8'));
}

const ofType = (type: string) => Object.values(template().Resources).filter((r) => r.Type === type);

test('copies the image into the destination region with an ImageCopy custom resource', () => {
  const [copy] = ofType('ALIYUN::ROS::CustomResource');
  expect(copy.Properties?.Parameters).toMatchObject({
    SourceImageId: 'm-bp1testimage000001',
    SourceRegionId: 'cn-hangzhou',
    DestinationRegionId: 'cn-shanghai',
    ImageName: 'test-copy',
  });
});

test('runs the copy in a Function Compute function with a role of its own', () => {
  expect(ofType('ALIYUN::FC3::Function')).toHaveLength(1);
  expect(ofType('ALIYUN::RAM::Role')).toHaveLength(1);
});

test("outputs the copy's image id and region", () => {
  expect(Object.keys(template().Outputs).sort()).toEqual(['ImageId', 'RegionId']);
});
`;
}

function readme(name: string, stackName: string): string {
  return `# ${name}

A ROS CDK app that copies an ECS custom image into another region with
[ros-cdk-image-copy](https://www.npmjs.com/package/ros-cdk-image-copy): \`lib/image-copy-stack.ts\` defines the stack
${stackName}, \`bin/app.ts\` the app.

\`\`\`sh
npm install
npm test                                    # the template, checked with jest
npx ros-deploy deploy --local               # deploy to LocalCloud, no account needed
npx ros-deploy destroy --local --force
\`\`\`

\`bin/app.ts\` copies the image LocalCloud seeds (${SEEDED_IMAGE.imageId} in ${SEEDED_IMAGE.regionId}). To copy one of your
own images on Alibaba Cloud, give its id (in the app, or \`-c sourceImageId=m-... -c sourceRegionId=...\`), provide
credentials (environment, \`aliyun configure\` profile, ...) and run \`npx ros-deploy diff\`, then
\`npx ros-deploy deploy --region cn-hangzhou\` (it asks before a change that broadens permissions or replaces or deletes
an image copy; \`--require-approval never\` in CI).

\`cdk.json\` runs the TypeScript with \`node --require ./register-ts.js bin/app.ts\`: \`register-ts.js\` transpiles each
file with the TypeScript compiler as it is loaded, without checking types, so synthesis stays fast; \`npm run build\`
and \`npm test\` check the types.
`;
}
