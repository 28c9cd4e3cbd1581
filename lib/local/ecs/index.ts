/**
 * ECS in LocalCloud, as the rest of LocalCloud uses it: the service (`EcsService`, the API and the `cloud.ecs`
 * facade), the actions it serves, the image model's constants and types, and the regions.
 */

export { EcsService, defaultCopyDurationMs } from './service';
export type { CopyFaultHook, EcsOptions, PutImageSpec } from './service';
export { ECS_ACTIONS, MAX_IMAGES_PER_REGION, TAG_RESOURCES_PAGE_SIZE } from './actions';
export type { EcsVariants } from './actions';
export {
  CLIENT_TOKEN_TTL_MS,
  IMAGE_STATUSES,
  MAX_RUNNING_COPIES_PER_REGION,
  SEEDED_IMAGES,
  type EcsImage,
  type ImageStatus,
} from './images';
export { MAX_RESOURCE_IDS, MAX_TAGS } from './params';
export { ECS_REGIONS, ECS_REGION_IDS, regionEndpoint, type EcsRegion } from './regions';
