/**
 * The ECS launch templates of the account, per region, kept in LocalCloud's state (section `ecsLaunchTemplates`),
 * with ECS CreateLaunchTemplate's rules
 * (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-createlaunchtemplate): at most 30
 * per region (`LaunchTemplateLimitExceed`, 403), a name used once per region (`LaunchTemplateName.Duplicated`, 403),
 * version 1 the default. LocalCloud serves no ECS launch-template API: `ALIYUN::ECS::LaunchTemplate` resources
 * (`resources/launch-template.ts`) create them. They belong to ECS's model, and move there with ECS's layout.
 */
import { ApiError } from '../errors';
import { randomAlnum } from '../ecs/images';
import { findRegion } from '../ecs/regions';
import type { StateStore } from '../state';

/** ECS's limit of launch templates in one region of an account (CreateLaunchTemplate reference). */
export const MAX_LAUNCH_TEMPLATES_PER_REGION = 30;

/** An ECS launch template: version 1, the default, holds the configuration it was created with. */
export interface LaunchTemplate {
  readonly launchTemplateId: string;
  readonly launchTemplateName: string;
  readonly regionId: string;
  readonly createTime: string;
  readonly defaultVersionNumber: number;
  readonly latestVersionNumber: number;
  /** Version 1's configuration, as the template's properties gave it (ImageId, InstanceType, ...). */
  readonly configuration: Readonly<Record<string, unknown>>;
}

interface LaunchTemplateState {
  /** Region → launch template id → template. */
  regions: Record<string, Record<string, LaunchTemplate>>;
}

/** The account's ECS launch templates, per region, persisted with LocalCloud's state. */
export class LaunchTemplateStore {
  private readonly state: LaunchTemplateState;

  constructor(private readonly store: StateStore) {
    this.state = store.section<LaunchTemplateState>('ecsLaunchTemplates', () => ({ regions: {} }));
  }

  /** The launch templates of a region, oldest first. */
  list(regionId: string): LaunchTemplate[] {
    return Object.values(this.state.regions[regionId] ?? {});
  }

  get(regionId: string, launchTemplateId: string): LaunchTemplate | undefined {
    return this.state.regions[regionId]?.[launchTemplateId];
  }

  /** Creates a launch template (version 1); `ApiError` as ECS answers for a name in use or a full region. */
  create(
    regionId: string,
    launchTemplateName: string,
    configuration: Record<string, unknown>,
  ): LaunchTemplate {
    const existing = this.list(regionId);
    if (existing.some((t) => t.launchTemplateName === launchTemplateName)) {
      throw new ApiError(
        'LaunchTemplateName.Duplicated',
        `The specified LaunchTemplateName "${launchTemplateName}" already exist.`,
        403,
      );
    }
    if (existing.length >= MAX_LAUNCH_TEMPLATES_PER_REGION) {
      throw new ApiError(
        'LaunchTemplateLimitExceed',
        `The maximum number of templates is exceeded: ${regionId} has ${existing.length} of ${MAX_LAUNCH_TEMPLATES_PER_REGION}.`,
        403,
      );
    }
    const prefix = findRegion(regionId)?.idPrefix ?? randomAlnum(3);
    let launchTemplateId: string;
    do {
      launchTemplateId = `lt-${prefix}${randomAlnum(17)}`;
    } while (this.get(regionId, launchTemplateId));
    const template: LaunchTemplate = {
      launchTemplateId,
      launchTemplateName,
      regionId,
      createTime: new Date().toISOString().slice(0, 19) + 'Z',
      defaultVersionNumber: 1,
      latestVersionNumber: 1,
      configuration,
    };
    (this.state.regions[regionId] ??= {})[launchTemplateId] = template;
    this.store.changed();
    return template;
  }

  /** Deletes a launch template with all its versions; false when there is none of that id. */
  delete(regionId: string, launchTemplateId: string): boolean {
    const templates = this.state.regions[regionId];
    if (!templates?.[launchTemplateId]) {
      return false;
    }
    delete templates[launchTemplateId];
    this.store.changed();
    return true;
  }
}
