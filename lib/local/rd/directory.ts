/**
 * LocalCloud's Resource Directory: the management account (the cloud's first account) enables one directory with a
 * Root folder and folders under it, each holding member accounts. Every account of the cloud is a member, in the Root
 * folder unless a folder was given it. Kept in the first account's state, so its ids survive a restart.
 *
 * Ids as Resource Manager shows them (its `InvalidParameter.*FolderId` rule: "start with r- followed by 6 characters
 * or start with fd- followed by 10 characters", letters and digits): the Root folder `r-` + 6, a folder `fd-` + 10,
 * the directory `rd-` + 6 (the references' examples, `rd-k4****`).
 */
import { randomAlnum } from '../ecs/images';
import type { ResourceDirectoryView } from '../ros/stack-groups/model';
import type { StateStore } from '../state';

/** `resourceDirectory` of `LocalCloud.start`: the folders to have and which accounts (by index) each holds. */
export interface ResourceDirectoryOptions {
  /**
   * Folder name → the indexes of the accounts in it (0 is the management account, the first one). An account is in
   * at most one folder; accounts in none are in the Root folder. A folder the state has and this does not name is
   * kept as it was.
   * @default no folders
   */
  readonly folders?: Readonly<Record<string, readonly number[]>>;
}

/** A folder of the directory (the Root folder included). */
export interface DirectoryFolder {
  readonly folderId: string;
  readonly folderName: string;
  /** The folder's parent (the Root folder's is none). */
  readonly parentFolderId?: string;
  /** `YYYY-MM-DDTHH:mm:ss.sssZ`, as Resource Manager reports it. */
  readonly createTime: string;
}

/** A member account of the directory. */
export interface DirectoryMember {
  readonly accountId: string;
  readonly displayName: string;
  readonly folderId: string;
  readonly joinTime: string;
}

interface StoredFolder {
  folderId: string;
  createTime: string;
  /** The member accounts' ids, in the order given. */
  accountIds: string[];
}

interface DirectoryState {
  resourceDirectoryId: string;
  rootFolderId: string;
  createTime: string;
  /** By folder name. */
  folders: Record<string, StoredFolder>;
}

/** A `resourceDirectory` option that cannot be: the message names the folder, the value and the rule. */
export class ResourceDirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceDirectoryError';
  }
}

/** Folder names: what the Resource Manager console accepts (1-24 characters: letters, digits, `_`, `-`, `.`). */
const FOLDER_NAME = /^[A-Za-z0-9_.-]{1,24}$/;

/**
 * The directory's model; `undefined` from `ResourceDirectory.open` when the management account enabled none. It is
 * the `ResourceDirectoryView` SERVICE_MANAGED stack groups resolve their folders through (enabled, with ROS's
 * trusted access; no delegated administrator).
 */
export class ResourceDirectory implements ResourceDirectoryView {
  /** Enabled by the management account (with ROS's trusted access): a directory LocalCloud has is. */
  readonly enabled = true;
  /** LocalCloud registers no delegated administrator of ROS stack groups: only the management account has one. */
  readonly delegatedAdministratorAccountIds: readonly string[] = [];

  /**
   * The directory kept in `store` (the first account's), updated with `options` when given (enabling it when the
   * state has none), or undefined when neither the state nor the options have one. Throws an `Error` naming a wrong
   * folder name or account index.
   */
  static open(
    store: StateStore,
    accountIds: readonly string[],
    options: ResourceDirectoryOptions | undefined,
    now: () => number = Date.now,
  ): ResourceDirectory | undefined {
    const existing = store.section<{ directory?: DirectoryState }>('resourceDirectory', () => ({}));
    if (!existing.directory && options === undefined) {
      return undefined;
    }
    const wanted = options ? checkFolders(options, accountIds) : {};
    const time = new Date(now()).toISOString();
    const state = (existing.directory ??= {
      resourceDirectoryId: `rd-${randomAlnum(6)}`,
      rootFolderId: `r-${randomAlnum(6)}`,
      createTime: time,
      folders: {},
    });
    const taken = new Set(Object.entries(wanted).flatMap(([, ids]) => ids));
    for (const folder of Object.values(state.folders)) {
      // An account the options place elsewhere leaves its old folder.
      folder.accountIds = folder.accountIds.filter((id) => !taken.has(id));
    }
    for (const [name, ids] of Object.entries(wanted)) {
      const folder = (state.folders[name] ??= {
        folderId: `fd-${randomAlnum(10)}`,
        createTime: time,
        accountIds: [],
      });
      folder.accountIds = [...ids];
    }
    store.changed();
    return new ResourceDirectory(state, accountIds, existing.directory.createTime);
  }

  private constructor(
    private readonly state: DirectoryState,
    private readonly accountIds: readonly string[],
    private readonly joinTime: string,
  ) {}

  /** `rd-` + 6 characters. */
  get resourceDirectoryId(): string {
    return this.state.resourceDirectoryId;
  }

  /** The Root folder's id: `r-` + 6 characters. */
  get rootFolderId(): string {
    return this.state.rootFolderId;
  }

  /** The management account: the cloud's first. */
  get managementAccountId(): string {
    return this.accountIds[0];
  }

  get createTime(): string {
    return this.state.createTime;
  }

  /** The Root folder, then every folder under it, in creation order. */
  folders(): DirectoryFolder[] {
    return [
      { folderId: this.rootFolderId, folderName: 'Root', createTime: this.state.createTime },
      ...Object.entries(this.state.folders).map(([folderName, folder]) => ({
        folderId: folder.folderId,
        folderName,
        parentFolderId: this.rootFolderId,
        createTime: folder.createTime,
      })),
    ];
  }

  /** A folder (the Root folder included) by id, or undefined. */
  folder(folderId: string): DirectoryFolder | undefined {
    return this.folders().find((f) => f.folderId === folderId);
  }

  /** The id of the folder named `name` (`Root` for the Root folder); throws naming the folders there are. */
  folderId(name: string): string {
    const found = this.folders().find((f) => f.folderName === name);
    if (!found) {
      throw new ResourceDirectoryError(
        `LocalCloud resource directory: no folder named ${JSON.stringify(name)}; there are ${this.folders()
          .map((f) => f.folderName)
          .join(', ')}`,
      );
    }
    return found.folderId;
  }

  /** Whether a folder (the Root folder included) exists. */
  hasFolder(folderId: string): boolean {
    return this.folder(folderId) !== undefined;
  }

  /**
   * The member accounts in a folder and the folders under it, each with the folder it is directly in (the Root
   * folder: every member), in account order.
   */
  accountsIn(folderId: string): { accountId: string; folderId: string }[] {
    const within = new Set<string>();
    const collect = (id: string): void => {
      within.add(id);
      this.childFolders(id).forEach((child) => collect(child.folderId));
    };
    if (this.hasFolder(folderId)) {
      collect(folderId);
    }
    return this.accountIds
      .map((accountId) => ({ accountId, folderId: this.folderOf(accountId)! }))
      .filter((member) => within.has(member.folderId));
  }

  /** The folders directly under `parentFolderId`, in creation order. */
  childFolders(parentFolderId: string): DirectoryFolder[] {
    return this.folders().filter((f) => f.parentFolderId === parentFolderId);
  }

  /** The member accounts directly in a folder (the Root folder holds those no folder does), in account order. */
  members(folderId: string): DirectoryMember[] {
    return this.accountIds
      .map((accountId, index) => ({ accountId, index, folderId: this.folderOf(accountId) }))
      .filter((m) => m.folderId === folderId)
      .map(({ accountId, index }) => ({
        accountId,
        displayName: index === 0 ? 'management-account' : `account-${index}`,
        folderId,
        joinTime: this.joinTime,
      }));
  }

  /** The account ids of a folder's members (what a SERVICE_MANAGED stack group deploys to for it). */
  accountsOf(folderId: string): string[] {
    return this.members(folderId).map((m) => m.accountId);
  }

  /** The folder a member is directly in (one the options gave it, else the Root folder); undefined for a non-member. */
  folderOf(accountId: string): string | undefined {
    if (!this.isMember(accountId)) {
      return undefined;
    }
    const entry = Object.values(this.state.folders).find((f) => f.accountIds.includes(accountId));
    return entry?.folderId ?? this.rootFolderId;
  }

  /** Whether an account is a member (every account of the cloud is). */
  isMember(accountId: string): boolean {
    return this.accountIds.includes(accountId);
  }

  /** `<rd-id>/<r-id>[/<fd-id>]`: the `{#ResourceDirectoryPath}` of a folder's RAM resource ARN. */
  pathOf(folderId: string): string {
    const root = `${this.resourceDirectoryId}/${this.rootFolderId}`;
    return folderId === this.rootFolderId ? root : `${root}/${folderId}`;
  }
}

/** The options' folders as account ids; throws naming a bad name, index, or an account in two folders. */
function checkFolders(
  options: ResourceDirectoryOptions,
  accountIds: readonly string[],
): Record<string, string[]> {
  const folders = options.folders ?? {};
  if (typeof folders !== 'object' || folders === null || Array.isArray(folders)) {
    throw new ResourceDirectoryError(
      `LocalCloud: resourceDirectory.folders must map folder names to account indexes, got ${JSON.stringify(folders)}`,
    );
  }
  const placed = new Map<number, string>();
  const result: Record<string, string[]> = {};
  for (const [name, indexes] of Object.entries(folders)) {
    if (!FOLDER_NAME.test(name) || name === 'Root') {
      throw new ResourceDirectoryError(
        `LocalCloud: resourceDirectory folder name ${JSON.stringify(name)} is invalid: 1 to 24 letters, digits, ` +
          `"_", "-" or ".", and not "Root"`,
      );
    }
    if (!Array.isArray(indexes)) {
      throw new ResourceDirectoryError(
        `LocalCloud: resourceDirectory folder ${name} must list account indexes, got ${JSON.stringify(indexes)}`,
      );
    }
    for (const index of indexes) {
      if (!Number.isInteger(index) || index < 0 || index >= accountIds.length) {
        throw new ResourceDirectoryError(
          `LocalCloud: resourceDirectory folder ${name}: account index ${JSON.stringify(index)} is not one of the ` +
            `cloud's accounts (0 to ${accountIds.length - 1}; 0 is the management account)`,
        );
      }
      const other = placed.get(index);
      if (other !== undefined && other !== name) {
        throw new ResourceDirectoryError(
          `LocalCloud: resourceDirectory: account ${index} is in folders ${other} and ${name}; an account is in at ` +
            `most one folder`,
        );
      }
      placed.set(index, name);
    }
    result[name] = [...new Set(indexes)].map((index) => accountIds[index]);
  }
  return result;
}
