/**
 * Resource Manager (API version 2020-03-31, `resourcemanager.aliyuncs.com`) as LocalCloud serves it: the Resource
 * Directory reads a SERVICE_MANAGED stack group and its users make. RPC style, as the SDK's POP client sends it
 * (`Action`, `Version=2020-03-31`, the parameters flat), answered in the references' JSON shapes:
 *
 * - GetResourceDirectory
 *   (https://alibabacloud.com/help/en/resource-management/api-getresourcedirectory):
 *   `ResourceDirectory.{ResourceDirectoryId, RootFolderId, MasterAccountId, MasterAccountName, CreateTime, ...}`;
 *   `ResourceDirectoryNotInUse` (404) when the caller is in no directory.
 * - ListAccountsForParent
 *   (https://www.alibabacloud.com/help/en/resource-management/resource-directory/developer-reference/api-resourcemanager-2020-03-31-listaccountsforparent):
 *   `ParentFolderId` (optional: the Root folder), `QueryKeyword`, `PageNumber` (from 1), `PageSize` (1-100, default
 *   10); `Accounts.Account[]` with `AccountId`, `DisplayName`, `FolderId`, `ResourceDirectoryId`, `JoinMethod`,
 *   `JoinTime`, `ModifyTime`, `Status`, `Type`; `TotalCount`, `PageNumber`, `PageSize`.
 * - ListFoldersForParent
 *   (https://www.alibabacloud.com/help/en/resource-management/resource-directory/developer-reference/api-resourcedirectorymaster-2022-04-19-listfoldersforparent,
 *   the same action in both versions): the first-level subfolders, `ParentFolderId` optional (the Root folder);
 *   `Folders.Folder[]` with `FolderId`, `FolderName`, `CreateTime`.
 *
 * Errors (the references' tables): `InvalidParameter.ParentFolderId` (400, "The ParentFolderId is invalid."),
 * `EntityNotExists.ResourceDirectory` (404) when the caller's account has not enabled a directory (a member account
 * has not: only the management account reads the folders), `EntityNotExists.Folder` (404). RAM: the 2020-03-31
 * references give `resourcemanager:ListAccountsForParent` on `acs:resourcemanager:*:{#accountId}:folder/
 * {#ResourceDirectoryPath}` (an earlier revision "All Resources"; LocalCloud checks the folder, the stricter), the
 * same for ListFoldersForParent; GetResourceDirectory takes no resource (checked against `*`).
 */
import { ApiError, invalidParameter } from '../errors';
import type { RequestContext, RpcService } from '../service';
import type { DirectoryFolder, ResourceDirectory } from './directory';

const FOLDER_ID = /^(r-[A-Za-z0-9]{6}|fd-[A-Za-z0-9]{10})$/;

/** The Resource Manager API over a LocalCloud's directory (or none). */
export class ResourceManagerService implements RpcService {
  readonly product = 'resourcemanager';
  readonly version = '2020-03-31';
  readonly hostId = 'resourcemanager.aliyuncs.com';

  constructor(private readonly directory: () => ResourceDirectory | undefined) {}

  async handle(
    action: string,
    params: Record<string, string>,
    ctx: RequestContext,
  ): Promise<Record<string, unknown>> {
    switch (action) {
      case 'GetResourceDirectory':
        return this.getResourceDirectory(ctx);
      case 'ListAccountsForParent':
        return this.listAccountsForParent(params, ctx);
      case 'ListFoldersForParent':
        return this.listFoldersForParent(params, ctx);
      default:
        throw new ApiError(
          'InvalidAction.NotFound',
          `Specified api is not found, please check your url and method. (LocalCloud's Resource Manager serves ` +
            `GetResourceDirectory, ListAccountsForParent and ListFoldersForParent, not ${action}.)`,
          404,
        );
    }
  }

  private getResourceDirectory(ctx: RequestContext): Record<string, unknown> {
    ctx.authorize('resourcemanager:GetResourceDirectory', ['*']);
    const rd = this.directory();
    if (!rd || !rd.isMember(ctx.accountId)) {
      throw new ApiError(
        'ResourceDirectoryNotInUse',
        'The specified account is not an Alibaba Cloud account or a member account of the resource directory.',
        404,
      );
    }
    return {
      ResourceDirectory: {
        ResourceDirectoryId: rd.resourceDirectoryId,
        RootFolderId: rd.rootFolderId,
        MasterAccountId: rd.managementAccountId,
        MasterAccountName: 'management-account',
        CreateTime: rd.createTime,
        ControlPolicyStatus: 'Disabled',
        MemberDeletionStatus: 'Disabled',
      },
    };
  }

  private listAccountsForParent(
    params: Record<string, string>,
    ctx: RequestContext,
  ): Record<string, unknown> {
    const { rd, folder } = this.parentFolder(params, ctx, 'resourcemanager:ListAccountsForParent');
    const keyword = params.QueryKeyword?.toLowerCase();
    const members = rd
      .members(folder.folderId)
      .filter(
        (m) => !keyword || m.displayName.toLowerCase().includes(keyword) || m.accountId.includes(keyword),
      );
    const { pageNumber, pageSize } = paging(params);
    return {
      TotalCount: members.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
      Accounts: {
        Account: members.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map((m) => ({
          AccountId: m.accountId,
          DisplayName: m.displayName,
          FolderId: m.folderId,
          ResourceDirectoryId: rd.resourceDirectoryId,
          JoinMethod: 'created',
          JoinTime: m.joinTime,
          ModifyTime: m.joinTime,
          Status: 'CreateSuccess',
          Type: 'ResourceAccount',
        })),
      },
    };
  }

  private listFoldersForParent(params: Record<string, string>, ctx: RequestContext): Record<string, unknown> {
    const { rd, folder } = this.parentFolder(params, ctx, 'resourcemanager:ListFoldersForParent');
    const keyword = params.QueryKeyword?.toLowerCase();
    const folders = rd
      .childFolders(folder.folderId)
      .filter((f) => !keyword || f.folderName.toLowerCase().includes(keyword));
    const { pageNumber, pageSize } = paging(params);
    return {
      TotalCount: folders.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
      Folders: {
        Folder: folders.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map((f) => ({
          FolderId: f.folderId,
          FolderName: f.folderName,
          CreateTime: f.createTime,
        })),
      },
    };
  }

  /** The directory and the `ParentFolderId` folder (the Root folder when absent), checked and authorized. */
  private parentFolder(
    params: Record<string, string>,
    ctx: RequestContext,
    action: string,
  ): { rd: ResourceDirectory; folder: DirectoryFolder } {
    const given = params.ParentFolderId;
    if (given !== undefined && given !== '' && !FOLDER_ID.test(given)) {
      throw new ApiError('InvalidParameter.ParentFolderId', 'The ParentFolderId is invalid.', 400);
    }
    const rd = this.directory();
    if (!rd || rd.managementAccountId !== ctx.accountId) {
      throw new ApiError(
        'EntityNotExists.ResourceDirectory',
        'The resource directory for the account is not enabled. We recommend that you first enable the resource ' +
          'directory for the account.',
        404,
      );
    }
    const folder = rd.folder(given || rd.rootFolderId);
    if (!folder) {
      throw new ApiError('EntityNotExists.Folder', 'The resource directory folder does not exist.', 404);
    }
    ctx.authorize(action, [`acs:resourcemanager::${ctx.accountId}:folder/${rd.pathOf(folder.folderId)}`]);
    return { rd, folder };
  }
}

/** `PageNumber` (from 1, default 1) and `PageSize` (1-100, default 10), as both list actions document them. */
function paging(params: Record<string, string>): { pageNumber: number; pageSize: number } {
  const pageNumber = params.PageNumber === undefined ? 1 : Number(params.PageNumber);
  if (!Number.isInteger(pageNumber) || pageNumber < 1) {
    throw invalidParameter('PageNumber', params.PageNumber, 'an integer from 1');
  }
  const pageSize = params.PageSize === undefined ? 10 : Number(params.PageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
    throw invalidParameter('PageSize', params.PageSize, 'an integer from 1 to 100');
  }
  return { pageNumber, pageSize };
}
