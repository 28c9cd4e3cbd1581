/**
 * A user's project for the lifecycle tests: a directory with `cdk.json` running `test/lifecycle/app.ts`, its
 * `lifecycle.json`, a copy of the handler bundle, and a LocalCloud that `ros-deploy --local` uses, run as a user runs
 * it (the bundled CLI in a child process). The LocalCloud is either the one `ros-deploy --local` embeds (its variants
 * from `ROS_LOCAL_VARIANTS`) or one serving the project's `.ros-local/` as `ros-local start` does (this process
 * runs it, so a test can restart it and wait for its function invocations to end). Either way its state file is the
 * ground truth the tests read: every image, listed by ECS yet or not.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  DEFAULT_LOCAL_DIR,
  removeServerInfo,
  STATE_FILE_NAME,
  writeServerInfo,
} from '../../lib/local/discovery';
import { LocalCloud } from '../../lib/local/local-cloud';
import type { CloudVariants } from '../../lib/local/variants';
import { VARIANTS_ENVIRONMENT_VARIABLE } from '../../lib/local/variants';
import { handlerZipPath, packageRoot } from '../../lib/package-root';
import { OWNERSHIP_TAG_KEY, parseOwnershipTag } from '../../lib/protocol';
import { HANDLER_ZIP_ENVIRONMENT_VARIABLE } from '../../lib/provider';
import { cliPath } from '../cli-paths';
import { SPEC_FILE, type LifecycleSpec } from './app';

/** Which LocalCloud `ros-deploy --local` uses. */
export type CloudMode = 'embedded' | 'served';

/** A source image the project seeds before the first deploy. */
export interface SeedImage {
  readonly regionId: string;
  readonly imageName: string;
  readonly sizeGiB: number;
}

export interface ProjectOptions {
  readonly mode: CloudMode;
  readonly variants: Partial<CloudVariants>;
  /** Images to put into the cloud first (by name: their ids are in {@link Project.images}). */
  readonly seed: readonly SeedImage[];
  /**
   * How long a copy takes, by image size. Served mode only: the embedded LocalCloud uses its default (150 ms per
   * GiB, at least 3 s), which the seed's sizes choose from.
   */
  readonly copyDurationMs?: (sizeGiB: number) => number;
}

/** How a `ros-deploy` run ended. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A `ros-deploy` run still going. */
export interface Running {
  readonly child: ChildProcess;
  readonly done: Promise<Run>;
  /** What it printed so far (stdout and stderr, in arrival order). */
  output(): string;
}

/** An image as the state file holds it. */
export interface StoredImage {
  readonly imageId: string;
  readonly regionId: string;
  readonly imageName: string;
  readonly encrypted: boolean;
  readonly tags: Array<[string, string]>;
  readonly copy?: { startedAt?: number; durationMs: number; failedAt?: number };
  readonly visibleAt?: number;
}

/** A stack as the state file holds it. */
export interface StoredStack {
  readonly stackId: string;
  readonly stackName: string;
  readonly status: string;
  readonly statusReason?: string;
}

/** The logical id an image's ownership tag names (`<StackId>/<LogicalId>#...`), or undefined when it has none. */
export function ownerOf(image: StoredImage): string | undefined {
  const value = image.tags.find(([key]) => key === OWNERSHIP_TAG_KEY)?.[1];
  const tag = value === undefined ? undefined : parseOwnershipTag(value);
  return tag?.owner.slice(tag.owner.lastIndexOf('/') + 1);
}

/** Whether a copy is still running (Waiting or Creating) at `now`. */
export function isCopying(image: StoredImage, now = Date.now()): boolean {
  const copy = image.copy;
  if (!copy || copy.failedAt !== undefined) {
    return false;
  }
  return copy.startedAt === undefined || now < copy.startedAt + copy.durationMs;
}

/** Whether ECS lists the image yet (a new copy may be hidden for a while: the copyVisibility variant). */
export function isListed(image: StoredImage, now = Date.now()): boolean {
  return image.visibleAt === undefined || now >= image.visibleAt;
}

export class Project {
  /** Seeded image ids by name. */
  readonly images: Record<string, string> = {};
  private served?: LocalCloud;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly dir: string,
    private readonly options: ProjectOptions,
  ) {
    const handlerZip = path.join(dir, 'handler.zip');
    // A bundle of its own: another test run may rebuild dist/handler meanwhile, changing the template.
    fs.copyFileSync(handlerZipPath(), handlerZip);
    const root = packageRoot();
    const app = `node --require ${path.join(root, 'examples', 'ts-register.js')} ${path.join(root, 'test', 'lifecycle', 'app.ts')}`;
    fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app }));
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!key.startsWith('ALIBABA_CLOUD_') && key !== 'CI') {
        env[key] = value;
      }
    }
    this.env = {
      ...env,
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
      [HANDLER_ZIP_ENVIRONMENT_VARIABLE]: handlerZip,
      ...(options.mode === 'embedded' && {
        [VARIANTS_ENVIRONMENT_VARIABLE]: Object.entries(options.variants)
          .map(([name, value]) => `${name}=${value}`)
          .join(','),
      }),
    };
  }

  /** A fresh project in a temporary directory, its images seeded (and, served, its LocalCloud started). */
  static async create(options: ProjectOptions): Promise<Project> {
    const project = new Project(fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-')), options);
    // The seed goes into the state file, which the embedded LocalCloud of every run reads.
    const cloud = await LocalCloud.start({ stateFile: project.stateFile });
    try {
      for (const image of options.seed) {
        project.images[image.imageName] = cloud.ecs.putImage(image.regionId, image);
      }
    } finally {
      await cloud.stop();
    }
    if (options.mode === 'served') {
      await project.serve();
    }
    return project;
  }

  get stateFile(): string {
    return path.join(this.dir, DEFAULT_LOCAL_DIR, STATE_FILE_NAME);
  }

  /** Writes the app's description for the next run. */
  writeSpec(spec: LifecycleSpec): void {
    fs.writeFileSync(path.join(this.dir, SPEC_FILE), JSON.stringify(spec, null, 2));
  }

  /** Starts `ros-deploy <args> --local` in the project. */
  start(args: readonly string[]): Running {
    const child = spawn(process.execPath, [cliPath('ros-deploy'), ...args, '--local'], {
      cwd: this.dir,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), (output += chunk.toString())));
    child.stderr!.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), (output += chunk.toString())));
    const done = new Promise<Run>((resolve) =>
      child.on('close', (code) => resolve({ code, stdout, stderr })),
    );
    return { child, done, output: () => output };
  }

  /** Runs `ros-deploy <args> --local` in the project to its end. */
  run(args: readonly string[]): Promise<Run> {
    return this.start(args).done;
  }

  /** Every image of the cloud, listed or not, any status. */
  allImages(): StoredImage[] {
    const state = this.readState() as { ecs?: { images?: Record<string, StoredImage> } };
    return Object.values(state.ecs?.images ?? {});
  }

  /** The images carrying the ownership tag of this library. */
  ownedImages(): StoredImage[] {
    return this.allImages().filter((image) => ownerOf(image) !== undefined);
  }

  /** The stacks of the cloud, deleted ones included. */
  stacks(): StoredStack[] {
    const state = this.readState() as { ros?: { stacks?: Record<string, StoredStack> } };
    return Object.values(state.ros?.stacks ?? {});
  }

  /**
   * Waits until nothing more can happen in the cloud: served, until its function invocations and stack operations
   * have ended (a handler may still confirm a copy after ROS got its answer); embedded, there is nothing running
   * between two runs (the LocalCloud and its functions end with the run).
   */
  async settled(): Promise<void> {
    if (this.served) {
      await this.served.ros.settled();
      await this.served.fc.settled();
    }
  }

  /**
   * Served: stops the LocalCloud as `ros-local` stops on Ctrl-C (its running functions end with it) and starts it
   * again on the same state file and port, as a user restarting `ros-local` would; the stack operation it cut off is
   * then marked failed.
   */
  async restartServed(): Promise<void> {
    const cloud = this.served;
    if (!cloud) {
      throw new Error('the project has no served LocalCloud');
    }
    const port = Number(cloud.endpoint.split(':')[1]);
    await this.stopServed();
    await this.serve(port);
  }

  /** Ends what the project runs and removes its directory. */
  async dispose(): Promise<void> {
    await this.stopServed();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async serve(port = 0): Promise<void> {
    const cloud = await LocalCloud.start({
      port,
      stateFile: this.stateFile,
      variants: this.options.variants,
      ...(this.options.copyDurationMs && { copyDurationMs: this.options.copyDurationMs }),
      lockPurpose: 'ros-local',
    });
    this.served = cloud;
    writeServerInfo(path.dirname(this.stateFile), {
      endpoint: cloud.endpoint,
      pid: process.pid,
      accountId: cloud.accountId,
      stateFile: this.stateFile,
      startedAt: new Date().toISOString(),
    });
  }

  private async stopServed(): Promise<void> {
    const cloud = this.served;
    if (!cloud) {
      return;
    }
    this.served = undefined;
    removeServerInfo(path.dirname(this.stateFile), process.pid);
    await cloud.stop();
  }

  private readState(): Record<string, unknown> {
    return JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as Record<string, unknown>;
  }
}

/** Polls `probe` every 50 ms until it returns a value (or `timeoutMs` passes, failing the test, saying `what`). */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) {
      return value;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
