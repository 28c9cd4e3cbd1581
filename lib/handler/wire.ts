/**
 * The ECS SDK's models, as type-only imports, turned into the PascalCase shapes that travel on the wire. The
 * handler calls the API through the SDK core's generic `callApi`, which returns the raw JSON body (PascalCase)
 * rather than the SDK's camelCase model instances, so `Wire<DescribeImagesResponseBody>` describes exactly what
 * comes back — without bundling the ECS SDK.
 */
import type * as Ecs from '@alicloud/ecs20140526';

/** The data fields of an SDK model: no index signature, no methods. */
type DataFields<T> = {
  [K in keyof T as string extends K ? never : T[K] extends (...args: never[]) => unknown ? never : K]: T[K];
};

/** An SDK model as JSON on the wire: field names capitalised (`imageId` → `ImageId`), everything optional. */
export type Wire<T> = T extends readonly (infer Item)[]
  ? Wire<Item>[]
  : T extends object
    ? { [K in keyof DataFields<T> as Capitalize<K & string>]?: Wire<DataFields<T>[K]> }
    : T;

/** Request and response body of each ECS action the handler calls. */
export interface EcsActions {
  CopyImage: { request: Wire<Ecs.CopyImageRequest>; response: Wire<Ecs.CopyImageResponseBody> };
  DescribeImages: {
    request: Wire<Ecs.DescribeImagesRequest>;
    response: Wire<Ecs.DescribeImagesResponseBody>;
  };
  CancelCopyImage: {
    request: Wire<Ecs.CancelCopyImageRequest>;
    response: Wire<Ecs.CancelCopyImageResponseBody>;
  };
  DeleteImage: { request: Wire<Ecs.DeleteImageRequest>; response: Wire<Ecs.DeleteImageResponseBody> };
  ModifyImageAttribute: {
    request: Wire<Ecs.ModifyImageAttributeRequest>;
    response: Wire<Ecs.ModifyImageAttributeResponseBody>;
  };
  TagResources: { request: Wire<Ecs.TagResourcesRequest>; response: Wire<Ecs.TagResourcesResponseBody> };
  UntagResources: {
    request: Wire<Ecs.UntagResourcesRequest>;
    response: Wire<Ecs.UntagResourcesResponseBody>;
  };
  JoinResourceGroup: {
    request: Wire<Ecs.JoinResourceGroupRequest>;
    response: Wire<Ecs.JoinResourceGroupResponseBody>;
  };
  ModifyImageSharePermission: {
    request: Wire<Ecs.ModifyImageSharePermissionRequest>;
    response: Wire<Ecs.ModifyImageSharePermissionResponseBody>;
  };
  DescribeImageSharePermission: {
    request: Wire<Ecs.DescribeImageSharePermissionRequest>;
    response: Wire<Ecs.DescribeImageSharePermissionResponseBody>;
  };
}

export type EcsAction = keyof EcsActions;
export type EcsRequest<A extends EcsAction> = EcsActions[A]['request'];
export type EcsResponse<A extends EcsAction> = EcsActions[A]['response'];

/** One image of a `DescribeImages` answer. */
export type WireImage = Wire<Ecs.DescribeImagesResponseBodyImagesImage>;
