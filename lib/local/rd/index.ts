/** LocalCloud's Resource Directory (folders and member accounts) and the Resource Manager API over it. */
export { ResourceDirectory, ResourceDirectoryError } from './directory';
export type { DirectoryFolder, DirectoryMember, ResourceDirectoryOptions } from './directory';
export { ResourceManagerService } from './api';
export { parseFolderAssignments } from './options';
