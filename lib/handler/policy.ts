/**
 * The RAM actions the handler calls, and nothing else: the provider's role gets exactly these (least
 * privilege). ECS actions act on images in the source and destination regions; `fc:InvokeFunction` lets a long
 * copy continue in a fresh invocation of the same function.
 */
export const HANDLER_RAM_ACTIONS = [
  'ecs:CopyImage',
  'ecs:DescribeImages',
  'ecs:CancelCopyImage',
  'ecs:DeleteImage',
  'ecs:ModifyImageAttribute',
  'ecs:TagResources',
  'ecs:UntagResources',
  'ecs:JoinResourceGroup',
  'ecs:ModifyImageSharePermission',
  'ecs:DescribeImageSharePermission',
  'fc:InvokeFunction',
] as const;

export type HandlerRamAction = (typeof HANDLER_RAM_ACTIONS)[number];

/** A RAM policy document (version 1) allowing {@link HANDLER_RAM_ACTIONS} on `resources` (default: all). */
export function handlerPolicyDocument(resources: string | readonly string[] = '*'): {
  readonly Version: '1';
  readonly Statement: ReadonlyArray<{
    readonly Effect: 'Allow';
    readonly Action: readonly string[];
    readonly Resource: string | readonly string[];
  }>;
} {
  return {
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: [...HANDLER_RAM_ACTIONS], Resource: resources }],
  };
}
