/**
 * Killing `ros-deploy --local` (and with it the LocalCloud it embeds) at any point of a copy, a replacement or a
 * destroy, then running `destroy`, leaves no image tagged as ours (issue 12). The kill comes at a moment the run
 * shows: a copy's progress printed (ECS lists the copy and it is running), or the custom resources' DELETE_IN_PROGRESS
 * events. Ctrl-C (SIGINT) also says what it leaves behind and how to clean up. A `ros-local` killed mid-copy is
 * `test/local/ros-restart.test.ts`'s.
 */
import type { LifecycleSpec } from './app';
import { isCopying, Project, waitFor, type Running } from './project';

const HOME = 'cn-hangzhou';

const SEED = [
  { regionId: HOME, imageName: 'kill-fast-source', sizeGiB: 20 },
  { regionId: HOME, imageName: 'kill-slow-source', sizeGiB: 160 },
] as const;

/** What SIGINT prints, per operation cut off. */
const STOPPED = {
  create:
    'ros-deploy: Stopped: the embedded LocalCloud stops with ros-deploy, so the create of Killed (cn-hangzhou) ends ' +
    'as failed (marked so when LocalCloud next starts); what its resources had started goes on in LocalCloud (an ' +
    'image copy runs to its end). To clean up, run `ros-deploy destroy Killed --local` to delete Killed and what it ' +
    'made, then deploy again.\n',
  update:
    'ros-deploy: Stopped: the embedded LocalCloud stops with ros-deploy, so the update of Killed (cn-hangzhou) ends ' +
    'as failed (marked so when LocalCloud next starts); what its resources had started goes on in LocalCloud (an ' +
    'image copy runs to its end). To clean up, deploy again to finish updating Killed, or run ' +
    '`ros-deploy destroy Killed --local` to delete it and what it made.\n',
  delete:
    'ros-deploy: Stopped: the embedded LocalCloud stops with ros-deploy, so the delete of Killed (cn-hangzhou) ends ' +
    'as failed (marked so when LocalCloud next starts); what its resources had started goes on in LocalCloud (an ' +
    'image copy runs to its end). To clean up, run `ros-deploy destroy Killed --local` again to finish deleting ' +
    'Killed.\n',
} as const;

export function killTests(signal: 'SIGKILL' | 'SIGINT'): void {
  describe(`ros-deploy --local killed with ${signal}, then destroyed: no image of ours is left`, () => {
    let project: Project;

    beforeEach(async () => {
      project = await Project.create({ mode: 'embedded', variants: {}, seed: SEED });
    });
    afterEach(() => project.dispose());

    /** An ImageCopy and an ImageReplication of one source. */
    const spec = (source: (typeof SEED)[number]['imageName']): LifecycleSpec => ({
      stackName: 'Killed',
      copies: {
        Copy: {
          sourceImageId: project.images[source],
          sourceRegionId: HOME,
          destinationRegionId: 'cn-shanghai',
          imageName: 'killed-copy',
        },
      },
      replications: {
        Replicas: {
          sourceImageId: project.images[source],
          sourceRegionId: HOME,
          destinationRegionIds: ['cn-shanghai', 'cn-beijing'],
          imageName: 'killed-replica',
        },
      },
    });

    async function kill(running: Running, operation: keyof typeof STOPPED): Promise<void> {
      running.child.kill(signal);
      const run = await running.done;
      if (signal === 'SIGINT') {
        expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: STOPPED[operation] });
      } else {
        expect(run.code).toBeNull();
      }
    }

    async function expectDestroyLeavesNothing(): Promise<void> {
      const destroyed = await project.run(['destroy', '--force']);
      expect({ code: destroyed.code, stderr: destroyed.stderr }).toEqual({ code: 0, stderr: '' });
      expect(destroyed.stdout).toContain('Destroyed Killed (cn-hangzhou): DELETE_COMPLETE');
      expect(project.ownedImages()).toEqual([]);
      expect(project.stacks().map((s) => `${s.stackName} ${s.status}`)).toEqual(['Killed DELETE_COMPLETE']);
    }

    const copyShown = (running: Running) => () => /\) copying m-\w+: \d+%/.test(running.output());

    it("during a create's copy", async () => {
      project.writeSpec(spec('kill-slow-source'));
      const running = project.start(['deploy', '--progress', 'events']);
      await waitFor('a copy to show progress', copyShown(running));
      await kill(running, 'create');
      expect(project.ownedImages().some((image) => isCopying(image))).toBe(true);
      await expectDestroyLeavesNothing();
    });

    it('during a replacement', async () => {
      project.writeSpec(spec('kill-fast-source'));
      expect((await project.run(['deploy'])).code).toBe(0);
      const before = project.ownedImages().map((image) => image.imageId);
      project.writeSpec(spec('kill-slow-source'));
      const running = project.start(['deploy', '--progress', 'events']);
      await waitFor('a replacement copy to show progress', copyShown(running));
      await kill(running, 'update');
      const copies = project.ownedImages();
      expect(copies.some((image) => isCopying(image) && !before.includes(image.imageId))).toBe(true);
      await expectDestroyLeavesNothing();
    });

    it('during a destroy', async () => {
      project.writeSpec(spec('kill-fast-source'));
      expect((await project.run(['deploy'])).code).toBe(0);
      expect(project.ownedImages()).toHaveLength(3);
      const running = project.start(['destroy', '--force', '--progress', 'events']);
      await waitFor('the custom resources to be deleted', () =>
        /DELETE_IN_PROGRESS +\| ALIYUN::ROS::CustomResource/.test(running.output()),
      );
      await kill(running, 'delete');
      // Cut off mid-destroy: the embedded LocalCloud stopped with the delete in progress.
      expect(project.stacks().map((s) => s.status)).toEqual(['DELETE_IN_PROGRESS']);
      await expectDestroyLeavesNothing();
    });
  });
}
