/** RAM in LocalCloud, as the rest of LocalCloud uses it: the keys and roles (`Ram`) and the policy language. */

export { Ram } from './ram';
export type { AccessKey, KeyLookup, Principal, RoleDefinition, TemporaryCredentials } from './ram';
export {
  ALL_RESOURCES_ACTIONS,
  isAllowed,
  takesAllResources,
  trustsService,
  validatePolicy,
  wildcardMatch,
} from './policy';
export type { PolicyDocument, PolicyStatement } from './policy';
