/**
 * The lifecycle matrix (issue 12): the whole life of `ImageCopy` and `ImageReplication` — create, rename, re-tag,
 * replace the source, the destination and the encryption, adopt an existing image, a create that runs out of its
 * timeout, a delete while a copy is running, and the final delete — through `ros-deploy --local` as a user runs it,
 * once per pass. Pass k plays the k-th value of every variant of `lib/local/variants.ts` (the first, the strictest,
 * where a variant has fewer), so the passes together play every value of every variant. After each step, the copies
 * carrying the ownership tag are exactly those the stack's outputs name; after the last, none is left and the stack
 * is gone. Each pass is a test file of its own (`pass-<k>.test.ts`), so jest runs them side by side.
 */
import { VARIANT_NAMES, VARIANT_VALUES, type CloudVariants } from '../../lib/local/variants';
import { imageOutput, type LifecycleSpec } from './app';
import { isCopying, isListed, ownerOf, Project, waitFor, type CloudMode, type Run } from './project';

/** How many passes it takes to play every value of every variant. */
export const PASS_COUNT = Math.max(...VARIANT_NAMES.map((name) => VARIANT_VALUES[name].length));

/** The variants pass `pass` (1-based) plays: the pass-th value of each, else its first. */
export function passVariants(pass: number): Partial<CloudVariants> {
  return Object.fromEntries(
    VARIANT_NAMES.map((name) => {
      const values: readonly string[] = VARIANT_VALUES[name];
      return [name, values[pass - 1] ?? values[0]];
    }),
  ) as Partial<CloudVariants>;
}

const HOME = 'cn-hangzhou';
const SHANGHAI = 'cn-shanghai';
const BEIJING = 'cn-beijing';
const SHENZHEN = 'cn-shenzhen';

/** The pass's images: two sources of short copies, one of a copy that outlasts the steps, an image to adopt. */
const SEED = [
  { regionId: HOME, imageName: 'lc-source-one', sizeGiB: 20 },
  { regionId: HOME, imageName: 'lc-source-two', sizeGiB: 20 },
  { regionId: HOME, imageName: 'lc-slow-source', sizeGiB: 160 },
  { regionId: SHANGHAI, imageName: 'lc-existing', sizeGiB: 20 },
] as const;

/** Served: 1.5 s for the short copies, 40 s for the slow one (embedded: LocalCloud's default, 3 s and 24 s). */
const servedCopyDurationMs = (sizeGiB: number): number => (sizeGiB >= 100 ? 40_000 : 1_500);

interface DeployReport {
  readonly success: boolean;
  readonly stacks: ReadonlyArray<{
    readonly status: string;
    readonly success: boolean;
    readonly outputs: Record<string, string>;
    readonly failedResources: ReadonlyArray<{ logicalResourceId: string; statusReason: string }>;
  }>;
}

function reportOf(run: Run): DeployReport {
  try {
    return JSON.parse(run.stdout) as DeployReport;
  } catch {
    throw new Error(`ros-deploy printed no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

/** Defines the tests of one pass. */
export function lifecyclePass(pass: number, mode: CloudMode): void {
  const variants = passVariants(pass);
  const summary = VARIANT_NAMES.map((name) => `${name}=${variants[name]}`).join(', ');

  describe(`lifecycle pass ${pass} (${mode} LocalCloud; ${summary})`, () => {
    let project: Project;
    const timings: Array<[string, number]> = [];
    let passStarted = 0;

    beforeAll(async () => {
      passStarted = Date.now();
      project = await Project.create({
        mode,
        variants,
        seed: SEED,
        ...(mode === 'served' && { copyDurationMs: servedCopyDurationMs }),
      });
    });

    afterAll(async () => {
      await project?.dispose();
      const total = ((Date.now() - passStarted) / 1000).toFixed(1);
      // The figures the README's "Reliability" section quotes.
      console.log(
        `lifecycle pass ${pass} (${mode}): ${total} s\n` +
          timings.map(([step, ms]) => `  ${step}: ${(ms / 1000).toFixed(1)} s`).join('\n'),
      );
    });

    /** The app as it stands; each step changes it and deploys. */
    let spec: LifecycleSpec;
    const source = (name: (typeof SEED)[number]['imageName']) => project.images[name];

    async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
      const started = Date.now();
      try {
        return await work();
      } finally {
        timings.push([step, Date.now() - started]);
      }
    }

    /** Deploys `next` and waits for the cloud to settle; returns the report of its one stack. */
    async function deploy(next: LifecycleSpec) {
      spec = next;
      project.writeSpec(spec);
      const run = await project.run(['deploy', '--json', '--progress', 'events']);
      await project.settled();
      const report = reportOf(run);
      return { run, stack: report.stacks[0] };
    }

    async function deploySucceeds(next: LifecycleSpec, status: string) {
      const { run, stack } = await deploy(next);
      expect({ code: run.code, status: stack.status, failures: stack.failedResources }).toEqual({
        code: 0,
        status,
        failures: [],
      });
      expectOwnedExactly(stack.outputs);
      return stack.outputs;
    }

    /** The copies carrying the ownership tag are exactly the images the outputs name: nothing left over. */
    function expectOwnedExactly(outputs: Record<string, string>) {
      const named = Object.entries(outputs)
        .filter(([key]) => key.endsWith('ImageId'))
        .map(([, imageId]) => imageId)
        .sort();
      expect(
        project
          .ownedImages()
          .map((image) => image.imageId)
          .sort(),
      ).toEqual(named);
    }

    const image = (imageId: string) => {
      const found = project.allImages().find((candidate) => candidate.imageId === imageId);
      if (!found) {
        throw new Error(`image ${imageId} is not in the cloud`);
      }
      return { ...found, tagMap: Object.fromEntries(found.tags) };
    };

    let outputs: Record<string, string> = {};

    it('creates an ImageCopy and an ImageReplication', async () => {
      outputs = await timed('create', () =>
        deploySucceeds(
          {
            stackName: 'Lifecycle',
            copies: {
              Copy: {
                sourceImageId: source('lc-source-one'),
                sourceRegionId: HOME,
                destinationRegionId: SHANGHAI,
                imageName: 'lc-copy',
                tags: { team: 'images' },
              },
            },
            replications: {
              Replicas: {
                sourceImageId: source('lc-source-one'),
                sourceRegionId: HOME,
                destinationRegionIds: [SHANGHAI, BEIJING],
                imageName: 'lc-replica',
                tags: { team: 'images' },
              },
            },
          },
          'CREATE_COMPLETE',
        ),
      );
      expect(image(outputs[imageOutput('Copy')])).toMatchObject({
        regionId: SHANGHAI,
        imageName: 'lc-copy',
        tagMap: { team: 'images' },
      });
      for (const regionId of [SHANGHAI, BEIJING]) {
        expect(image(outputs[imageOutput('Replicas', regionId)])).toMatchObject({
          regionId,
          imageName: 'lc-replica',
          tagMap: { team: 'images' },
        });
      }
    });

    it('renames and re-tags every copy in place', async () => {
      const before = outputs;
      outputs = await timed('rename, re-tag', () =>
        deploySucceeds(
          {
            ...spec,
            copies: {
              Copy: {
                ...spec.copies.Copy,
                imageName: 'lc-copy-renamed',
                tags: { team: 'platform', env: 'test' },
              },
            },
            replications: {
              Replicas: {
                ...spec.replications.Replicas,
                imageName: 'lc-replica-renamed',
                tags: { env: 'test' },
              },
            },
          },
          'UPDATE_COMPLETE',
        ),
      );
      expect(outputs).toEqual(before);
      const copy = image(outputs[imageOutput('Copy')]);
      expect(copy).toMatchObject({ imageName: 'lc-copy-renamed', tagMap: { team: 'platform', env: 'test' } });
      for (const regionId of [SHANGHAI, BEIJING]) {
        const replica = image(outputs[imageOutput('Replicas', regionId)]);
        expect(replica).toMatchObject({ imageName: 'lc-replica-renamed', tagMap: { env: 'test' } });
        expect(replica.tagMap.team).toBeUndefined();
      }
    });

    it('replaces every copy when the source changes, keeping names and tags', async () => {
      const before = outputs;
      outputs = await timed('replace source', () =>
        deploySucceeds(
          {
            ...spec,
            copies: { Copy: { ...spec.copies.Copy, sourceImageId: source('lc-source-two') } },
            replications: {
              Replicas: { ...spec.replications.Replicas, sourceImageId: source('lc-source-two') },
            },
          },
          'UPDATE_COMPLETE',
        ),
      );
      for (const key of Object.keys(before)) {
        expect(outputs[key]).not.toBe(before[key]);
      }
      expect(image(outputs[imageOutput('Copy')])).toMatchObject({
        regionId: SHANGHAI,
        imageName: 'lc-copy-renamed',
        tagMap: { team: 'platform', env: 'test' },
      });
      for (const regionId of [SHANGHAI, BEIJING]) {
        expect(image(outputs[imageOutput('Replicas', regionId)])).toMatchObject({
          regionId,
          imageName: 'lc-replica-renamed',
        });
      }
    });

    it('moves the copy to another destination region, and the replication to other regions', async () => {
      const before = outputs;
      outputs = await timed('replace destination', () =>
        deploySucceeds(
          {
            ...spec,
            copies: { Copy: { ...spec.copies.Copy, destinationRegionId: BEIJING } },
            replications: {
              Replicas: { ...spec.replications.Replicas, destinationRegionIds: [BEIJING, SHENZHEN] },
            },
          },
          'UPDATE_COMPLETE',
        ),
      );
      expect(image(outputs[imageOutput('Copy')])).toMatchObject({
        regionId: BEIJING,
        imageName: 'lc-copy-renamed',
      });
      expect(outputs[imageOutput('Copy')]).not.toBe(before[imageOutput('Copy')]);
      expect(outputs[imageOutput('Replicas', SHANGHAI)]).toBeUndefined();
      expect(image(outputs[imageOutput('Replicas', SHENZHEN)])).toMatchObject({ regionId: SHENZHEN });
      // The Beijing copy stays the same image: only its list of peer regions changed.
      expect(outputs[imageOutput('Replicas', BEIJING)]).toBe(before[imageOutput('Replicas', BEIJING)]);
    });

    it('replaces every copy when the encryption changes', async () => {
      const before = outputs;
      outputs = await timed('replace encryption', () =>
        deploySucceeds(
          {
            ...spec,
            copies: { Copy: { ...spec.copies.Copy, encrypted: true } },
            replications: { Replicas: { ...spec.replications.Replicas, encrypted: true } },
          },
          'UPDATE_COMPLETE',
        ),
      );
      for (const [key, imageId] of Object.entries(outputs)) {
        expect(imageId).not.toBe(before[key]);
        expect(image(imageId).encrypted).toBe(true);
      }
    });

    it('adopts an existing image (existingImageId), which it then owns', async () => {
      const existing = source('lc-existing');
      outputs = await timed('adopt', () =>
        deploySucceeds(
          {
            ...spec,
            copies: {
              ...spec.copies,
              Adopted: {
                sourceImageId: source('lc-source-one'),
                sourceRegionId: HOME,
                destinationRegionId: SHANGHAI,
                existingImageId: existing,
              },
            },
          },
          'UPDATE_COMPLETE',
        ),
      );
      expect(outputs[imageOutput('Adopted')]).toBe(existing);
      expect(ownerOf(image(existing))).toBe('Adopted');
    });

    it('fails a create that runs out of its create timeout, rolls it back, and leaves none of its copies', async () => {
      const { run, stack } = await timed('create timeout', () =>
        deploy({
          ...spec,
          copies: {
            ...spec.copies,
            TooSlow: {
              sourceImageId: source('lc-slow-source'),
              sourceRegionId: HOME,
              destinationRegionId: SHENZHEN,
              imageName: 'lc-too-slow',
              createTimeoutMinutes: 1 / 60,
            },
          },
          replications: {
            ...spec.replications,
            SlowReplicas: {
              sourceImageId: source('lc-slow-source'),
              sourceRegionId: HOME,
              destinationRegionIds: [SHANGHAI, SHENZHEN],
              imageName: 'lc-slow-replica',
              createTimeoutMinutes: 1 / 60,
            },
          },
        }),
      );
      expect(run.code).toBe(1);
      expect(stack.status).toBe('ROLLBACK_COMPLETE');
      expect(stack.failedResources.length).toBeGreaterThan(0);
      for (const failure of stack.failedResources) {
        expect(failure.statusReason).toMatch(/create timeout of 1 second\b/);
      }
      // The stack is back where it was: the same images, and nothing of the failed resources.
      spec = {
        ...spec,
        copies: { Copy: spec.copies.Copy, Adopted: spec.copies.Adopted },
        replications: { Replicas: spec.replications.Replicas },
      };
      expectOwnedExactly(outputs);
    });

    it('deletes a resource whose copy is still running, after the run creating it was stopped', async () => {
      spec = {
        ...spec,
        copies: {
          ...spec.copies,
          Interrupted: {
            sourceImageId: source('lc-slow-source'),
            sourceRegionId: HOME,
            destinationRegionId: SHENZHEN,
            imageName: 'lc-interrupted',
          },
        },
      };
      project.writeSpec(spec);
      await timed('delete during a copy', async () => {
        const running = project.start(['deploy', '--progress', 'events']);
        // The copy is running and ECS lists it: the run prints its progress.
        await waitFor('the copy to show progress', () =>
          /Interrupted\) copying m-\w+: \d+%/.test(running.output()),
        );
        const copy = project.ownedImages().find((candidate) => ownerOf(candidate) === 'Interrupted');
        expect(copy && isCopying(copy) && isListed(copy)).toBe(true);
        if (mode === 'embedded') {
          // Ctrl-C: the embedded LocalCloud stops with the run (the next one marks the update failed); the copy goes
          // on in its ECS.
          running.child.kill('SIGINT');
          expect((await running.done).code).toBe(1);
        } else {
          // Ctrl-C stops following: the update goes on, as in ROS, and the run says so.
          running.child.kill('SIGINT');
          const stopped = await running.done;
          expect({ code: stopped.code, stderr: stopped.stderr }).toEqual({
            code: 1,
            stderr:
              'ros-deploy: Stopped following: the update of Lifecycle (cn-hangzhou) goes on in ROS. Follow it with ' +
              '`ros-deploy events Lifecycle --local`; once it has ended, if it failed, deploy again to finish updating ' +
              'Lifecycle, or run `ros-deploy destroy Lifecycle --local` to delete it and what it made.\n',
          });
          expect(project.stacks().find((s) => s.stackName === 'Lifecycle')?.status).toBe(
            'UPDATE_IN_PROGRESS',
          );
          // Then ros-local is restarted: the update it cut off is marked failed; the copy goes on.
          await project.restartServed();
          expect(project.stacks().find((s) => s.stackName === 'Lifecycle')?.status).toBe('UPDATE_FAILED');
        }
        expect(isCopying(copy!)).toBe(true);
        const destroyed = await project.run(['destroy', '--force', '--json']);
        await project.settled();
        expect({ code: destroyed.code, status: reportOf(destroyed).stacks[0].status }).toEqual({
          code: 0,
          status: 'DELETE_COMPLETE',
        });
      });
    });

    it('leaves no image tagged as ours, the adopted one included, and the stack gone', () => {
      expect(project.ownedImages()).toEqual([]);
      expect(project.allImages().map((i) => i.imageId)).not.toContain(source('lc-existing'));
      expect(project.stacks().map((s) => `${s.stackName} ${s.status}`)).toEqual([
        'Lifecycle DELETE_COMPLETE',
      ]);
    });
  });
}
