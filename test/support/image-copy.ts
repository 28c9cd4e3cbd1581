import { DESTINATION_REGION, SOURCE_REGION } from '../handler/harness';

/**
 * The `ResourceProperties` of an ImageCopy custom resource that copies `sourceImageId` from the handler harness's
 * source region into its destination region, with `extra` (a name, tags, timeouts, or a value under test).
 */
export const propertiesFor = <T extends object = object>(sourceImageId: string, extra: T = {} as T) => ({
  SourceImageId: sourceImageId,
  SourceRegionId: SOURCE_REGION,
  DestinationRegionId: DESTINATION_REGION,
  ...extra,
});
