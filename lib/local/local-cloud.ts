/**
 * `LocalCloud`: makes the services (RAM, ECS, Function Compute, ROS with its change sets and launch templates) over
 * one state, mounts their APIs on the server, wires the fault plan and the variants into them, and is the facade
 * tests and the CLIs use (`cloud.ecs`, `cloud.fc`, `cloud.ros`, credentials, roles, callbacks, calls, faults).
 */
import type { AddressInfo } from 'net';
import { AccountDirectory, LocalAccount, newAccountId, type AccountState } from './accounts';
import { Authenticator, FileNonceStore } from './auth';
import { Callback, CallbackOptions, Callbacks } from './callbacks';
import { systemClock } from './clock';
import { EcsOptions, EcsService } from './ecs';
import { FaultPlan, FaultPlanSpec, isFaultHook } from './faults';
import { FcApi, FunctionCompute, InvocationHooks } from './fc';
import { ResourceDirectory, ResourceManagerService, type ResourceDirectoryOptions } from './rd';
import { AccessKey, PolicyDocument, Ram, RoleDefinition, TemporaryCredentials } from './ram';
import {
  ChangeSets,
  ClientTokens,
  LaunchTemplateStore,
  RosService,
  StackEngine,
  StackGroups,
  type CloudServices,
  type EngineOptions,
  type ResourceDirectoryView,
} from './ros';
import type { RequestContext, RpcService } from './service';
import { CallRecord, FaultHook, IncomingCall, LocalServer, Route } from './server';
import { StateStore } from './state';
import { StateLock } from './state-lock';
import { createStackGroupRoles } from './stack-group-roles';
import { CloudVariants, resolveVariants } from './variants';

/** At most this many accounts in one LocalCloud. */
export const MAX_ACCOUNTS = 100;

export interface LocalCloudOptions extends EcsOptions {
  /**
   * How many accounts the cloud has (`cloud.accounts`), each with its own root key, id, RAM, functions, stacks and
   * images. A state file keeps them all: a cloud started on a file that holds more has those too.
   * @default 1
   */
  readonly accounts?: number;
  /** TCP port on 127.0.0.1; 0 (the default) picks any free port. */
  readonly port?: number;
  /**
   * Persist the cloud's state in this JSON file (written on change, read on start), held by this LocalCloud until
   * it stops. Default: memory only.
   */
  readonly stateFile?: string;
  /** What uses the state file, named to another process that finds it held. Default `LocalCloud`. */
  readonly lockPurpose?: string;
  /** Largest accepted clock difference of a signed request. Default 15 minutes. */
  readonly maxSkewMs?: number;
  /**
   * Injected faults: a `FaultPlan`, its JSON spec (`{ seed, rules }`, see `lib/local/faults.ts`), or a bare hook
   * consulted before each authenticated call. `cloud.faults.stats()` counts what a plan injected.
   */
  readonly faults?: FaultPlan | FaultPlanSpec | FaultHook;
  /** Hooks into function invocations (e.g. kill an instance after N ms). */
  readonly invocationHooks?: InvocationHooks;
  /** ROS engine settings (e.g. a cap on how long any stack operation may take, for tests). */
  readonly ros?: EngineOptions;
  /**
   * Which reading of each behaviour the documentation leaves open LocalCloud plays (see `lib/local/variants.ts` and
   * docs/real-cloud.md). Default: the strictest reading of each.
   */
  readonly variants?: Partial<CloudVariants>;
  /** Fault hook: how many times to deliver each custom-resource request (duplicate delivery). Default 1. */
  readonly customResourceDeliveries?: (logicalId: string, requestType: string) => number;
  /**
   * Enables a Resource Directory with the first account as its management account (`cloud.resourceDirectory`, the
   * Resource Manager API): `{ folders: { prod: [1, 2], dev: [3] } }` puts accounts (by index) in folders; the others
   * are in the Root folder. Kept in the state with its ids: a cloud started on the file later has it, with these
   * folders updated. Default: none (unless the state has one).
   */
  readonly resourceDirectory?: ResourceDirectoryOptions;
  /**
   * Creates the RAM roles of self-managed stack groups as the ROS guide says (see `lib/local/stack-group-roles.ts`):
   * `AliyunROSStackGroupAdministrationRole` in the first account, `AliyunROSStackGroupExecutionRole` in every account,
   * each account once. @default false
   */
  readonly stackGroupRoles?: boolean;
  /**
   * The Resource Directory service-managed stack groups deploy through (its management account, folders and
   * members), read at each call. Default: none (service-managed stack groups are refused).
   */
  readonly resourceDirectoryView?: () => ResourceDirectoryView | undefined;
}

/**
 * A loopback emulator of the parts of Alibaba Cloud this project touches, speaking the real wire protocol with
 * real signature checks, so the real SDK clients work against it unchanged:
 *
 * ```ts
 * const cloud = await LocalCloud.start();
 * const ecs = new Ecs(new $OpenApiUtil.Config({ ...cloud.credentials, regionId: 'cn-hangzhou',
 *   endpoint: cloud.endpoint, protocol: 'http' }));
 * ```
 */
export class LocalCloud {
  /**
   * Starts a LocalCloud on 127.0.0.1 and resolves once it accepts connections. With a `stateFile`, it holds the file
   * until stopped: another LocalCloud on the same file is refused (`StateLockedError`, naming the holder).
   */
  static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const lock = options.stateFile
      ? StateLock.acquire(options.stateFile, options.lockPurpose ?? 'LocalCloud')
      : undefined;
    let cloud: LocalCloud | undefined;
    try {
      cloud = new LocalCloud(options, lock);
      await cloud.server.listen(options.port ?? 0);
      // Every account exists and the cloud answers (custom resources post to it): the stack group operations a stop
      // interrupted go on.
      cloud.accounts.forEach((account) => account.stackGroups.resume());
      return cloud;
    } catch (err) {
      cloud?.state.close();
      lock?.release();
      throw err;
    }
  }

  /** The first account's id (16 digits, kept in the state file): the account of `credentials`, `ros`, `fc`. */
  readonly accountId: string;
  /**
   * Every account, the first one first: each with its `accountId`, root `credentials`, RAM roles, functions (`fc`)
   * and stacks (`ros`). A request is the account's whose key (or role credentials) signed it.
   */
  readonly accounts: readonly LocalAccount[];
  /** The ECS image API's state, with helpers for tests: `putImage`, `getImage`, `listImages`, `failCopy`. */
  readonly ecs: EcsService;
  /** Function Compute 3.0: functions, invocations and their logs. */
  readonly fc: FunctionCompute;
  /** ROS: the stacks and the engine that runs their operations (`cloud.ros.settled()` waits for them). */
  readonly ros: StackEngine;
  /** ROS change sets (CreateChangeSet ... DeleteChangeSet): `cloud.changeSets.list(region, stackId, ...)`. */
  readonly changeSets: ChangeSets;
  /** The ECS launch templates `ALIYUN::ECS::LaunchTemplate` resources created: `cloud.launchTemplates.list(region)`. */
  readonly launchTemplates: LaunchTemplateStore;
  readonly state: StateStore;
  /** The readings of undocumented behaviours in force (`options.variants` over the strictest defaults). */
  readonly variants: CloudVariants;
  /**
   * The Resource Directory the first account manages (`resourceDirectory` option), or undefined when it has none:
   * `cloud.resourceDirectory?.folderId('prod')`, `.accountsOf(folderId)`.
   */
  readonly resourceDirectory: ResourceDirectory | undefined;
  private readonly callbacks: Callbacks;
  private readonly ram: Ram;
  private readonly server: LocalServer;
  private plan: FaultPlan;

  private constructor(
    options: LocalCloudOptions,
    private readonly lock?: StateLock,
  ) {
    this.variants = resolveVariants(options.variants);
    const customHook = isFaultHook(options.faults) ? options.faults : undefined;
    this.plan = toFaultPlan(
      customHook ? undefined : (options.faults as FaultPlan | FaultPlanSpec | undefined),
    );
    this.state = new StateStore(options.stateFile);
    const count = Math.max(accountCount(options.accounts), this.state.accountCount());
    const identities = Array.from({ length: count }, (_, i) =>
      this.state.account(i).section<AccountState>('account', () => ({ accountId: newAccountId() })),
    );
    this.accountId = identities[0].accountId;
    const directory = new AccountDirectory(() => this.accounts);
    this.server = new LocalServer({
      authenticator: new Authenticator(directory, {
        maxSkewMs: options.maxSkewMs,
        // Beside the state file: a request captured before a restart is still refused after it.
        ...(options.stateFile && { nonces: new FileNonceStore(`${options.stateFile}.nonces`) }),
      }),
      accountOf: (accessKeyId) => directory.accountOf(accessKeyId),
      faults: {
        beforeCall: async (product, action, principal, call) => {
          const info = { ...call, retryAfterUnit: this.variants.retryAfterUnit };
          return (
            (await customHook?.beforeCall(product, action, principal, info)) ??
            this.plan.beforeCall(product, action, principal, info)
          );
        },
      },
    });
    this.ecs = new EcsService(
      this.state,
      this.accountId,
      { ...options, variants: this.variants, isAccount: (id) => directory.has(id) },
      {
        onCopy: (copy) => this.plan.onCopy(copy),
        onCancelRefused: (imageId) => this.plan.note('cancelNotSupported', imageId),
      },
    );
    this.server.addService(this.ecs);
    this.callbacks = new Callbacks(() => this.endpoint, {
      failFirst: () => this.plan.responseUrlFailures(),
      onInjectedFailure: (id) => this.plan.note('responseUrlFailure', id),
    });
    this.callbacks.routes.forEach((route) => this.server.addRoute(route));
    this.accounts = identities.map((identity, i) => this.makeAccount(i, identity.accountId, options));
    const first = this.accounts[0];
    this.fc = first.fc;
    this.ros = first.ros;
    this.changeSets = first.changeSets;
    this.launchTemplates = first.launchTemplates;
    this.ram = first.services.ram;
    this.server.addRoute(this.accountRoute(first.services.fcApi));
    this.server.addService(this.accountService(first.services.rosApi));
    this.resourceDirectory = ResourceDirectory.open(
      this.state,
      this.accounts.map((a) => a.accountId),
      options.resourceDirectory,
    );
    this.server.addService(new ResourceManagerService(() => this.resourceDirectory));
    if (options.stackGroupRoles) {
      createStackGroupRoles(this.state, this.accounts);
    }
    this.state.changed();
  }

  /** `127.0.0.1:<port>`: an SDK `endpoint`, to be used with `protocol: 'http'`. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  /** The fault plan in force (an empty one unless `faults` or `setFaults` gave one): `cloud.faults.stats()`. */
  get faults(): FaultPlan {
    return this.plan;
  }

  /** Replaces the fault plan from now on (e.g. faults only once a provider is deployed); `undefined` clears it. */
  setFaults(faults: FaultPlan | FaultPlanSpec | undefined): FaultPlan {
    this.plan = toFaultPlan(faults);
    return this.plan;
  }

  /** Where LocalCloud listens: the shared endpoint and each regional FC endpoint started so far, all on 127.0.0.1. */
  addresses(): AddressInfo[] {
    return this.server.addresses();
  }

  /** The first account's root access key. */
  get credentials(): AccessKey {
    return this.ram.rootCredentials;
  }

  /** Every API call LocalCloud has answered, oldest first (for tests and benchmarks). */
  get calls(): readonly CallRecord[] {
    return this.server.calls;
  }

  /**
   * Temporary credentials for a RAM role: calls signed with them are allowed only where `policy` allows
   * (`Forbidden.RAM` otherwise).
   */
  issueRoleCredentials(roleName: string, policy: PolicyDocument, ttlSeconds?: number): TemporaryCredentials {
    return this.ram.issueRoleCredentials(roleName, policy, ttlSeconds);
  }

  /**
   * The temporary credentials a service gets when it assumes `roleName` (what Function Compute hands a function that
   * names the role): they can do what the role allows at the time of each call, nothing once it is deleted. Fails
   * when the role does not exist or does not trust `service`.
   */
  assumeRole(roleName: string, service = 'fc.aliyuncs.com', ttlSeconds?: number): TemporaryCredentials {
    return this.ram.assumeRoleAsService(roleName, service, ttlSeconds);
  }

  /** Creates or replaces a RAM role; functions that name it run with its policies. */
  putRole(role: RoleDefinition): void {
    this.ram.putRole(role);
  }

  /** A RAM role by name (its trust and policies), or undefined when there is none. */
  getRole(roleName: string): RoleDefinition | undefined {
    return this.ram.getRole(roleName);
  }

  /** The ARN of a role, as functions name it: `acs:ram::<account>:role/<name>`. */
  roleArn(roleName: string): string {
    return `acs:ram::${this.accountId}:role/${roleName}`;
  }

  /**
   * A presigned response URL pair for a custom-resource request: `response` resolves with the first valid body
   * posted (POST, JSON, ≤ 4096 bytes, the required fields), as ROS would accept it.
   */
  createCallback(options?: CallbackOptions): Callback {
    return this.callbacks.create(options);
  }

  /** One account's RAM, Function Compute and ROS, over its part of the state. */
  private makeAccount(index: number, accountId: string, options: LocalCloudOptions): LocalAccount {
    const store = this.state.account(index);
    const ram = new Ram(store);
    const fc = new FunctionCompute({
      accountId,
      ram,
      store,
      endpoint: () => this.endpoint,
      regionalEndpoint: (region) => this.server.regionalEndpoint(region),
      asyncRetry: () => this.variants.fcAsyncRetry,
      // A function is told how soon this ECS lists a new copy, so that what waits out ECS's listing delay (2
      // minutes in the real cloud) waits LocalCloud's. Not when ECS runs on a clock of its own (tests that move it).
      listingBoundMs: () =>
        options.now !== undefined
          ? undefined
          : this.variants.copyVisibility === 'delayed'
            ? this.variants.copyVisibilityDelayMs + Math.max(1_000, this.variants.copyVisibilityDelayMs / 2)
            : 1_000,
      hooks: {
        killAfterMs: (fn) => options.invocationHooks?.killAfterMs?.(fn) ?? this.plan.killAfterMs(fn),
        onKilled: (fn) => {
          options.invocationHooks?.onKilled?.(fn);
          this.plan.note('killInvocation', fn);
        },
      },
    });
    const launchTemplates = new LaunchTemplateStore(store);
    const rosClock = options.ros?.clock ?? systemClock;
    const services: CloudServices = {
      ram,
      fc,
      ecs: this.ecs,
      launchTemplates,
      variants: this.variants,
      clock: rosClock,
      createCallback: (o) => this.callbacks.create(o),
      discardCallback: (id) => this.callbacks.discard(id),
      deliveries: (logicalId, requestType) =>
        options.customResourceDeliveries?.(logicalId, requestType) ??
        this.plan.deliveries(logicalId, requestType),
      // ALIYUN::ROS::StackGroup and StackInstances act on the account's stack groups (made below).
      stackGroups: () => stackGroups,
    };
    const ros = new StackEngine(store, accountId, services, { ...options.ros, clock: rosClock });
    const changeSets = new ChangeSets(store, ros, services, this.variants, {
      creationMs: options.ros?.changeSetCreationMs,
      clock: rosClock,
    });
    const stackGroups = new StackGroups({
      store,
      admin: { accountId, ram, engine: ros },
      account: (id) => {
        const target = this.accounts.find((a) => a.accountId === id);
        return target && { accountId: id, ram: target.services.ram, engine: target.ros };
      },
      resourceDirectory: () => options.resourceDirectoryView?.() ?? this.resourceDirectory,
      clock: rosClock,
    });
    const rosApi = new RosService(
      new ClientTokens(store, rosClock),
      ros,
      changeSets,
      () => this.ecs.regions(),
      () => this.variants.stackEventsOrder,
      { groups: stackGroups, accountsPerCall: () => Number(this.variants.stackGroupAccountsPerCall) },
    );
    return new LocalAccount(index, accountId, {
      ram,
      fc,
      fcApi: new FcApi(fc, accountId),
      ros,
      rosApi,
      changeSets,
      launchTemplates,
      stackGroups,
    });
  }

  /** The account a request's context names (the one whose credentials signed it). */
  private accountFor(ctx: RequestContext | undefined): LocalAccount {
    return this.accounts.find((a) => a.accountId === ctx?.accountId) ?? this.accounts[0];
  }

  /** An RPC API each account serves for itself (ROS): the call goes to the caller's account. */
  private accountService(first: RpcService): RpcService {
    return {
      product: first.product,
      version: first.version,
      hostId: first.hostId,
      handle: (action, params, ctx) => {
        const api = this.accountFor(ctx).services.rosApi;
        return api.handle(action, params, ctx);
      },
    };
  }

  /** A path-routed API each account serves for itself (FC 3.0): the call goes to the caller's account. */
  private accountRoute(first: Route): Route {
    return {
      prefix: first.prefix,
      product: first.product,
      signed: first.signed,
      actionOf: (call: IncomingCall) => first.actionOf(call),
      handle: (call, ctx) => this.accountFor(ctx).services.fcApi.handle(call, ctx),
    };
  }

  /** Stops serving, kills running functions, closes every connection and lets go of the state file. */
  async stop(): Promise<void> {
    await Promise.all(this.accounts.map((account) => account.fc.stop()));
    await this.server.close();
    this.state.close();
    this.lock?.release();
  }
}

/** The `accounts` option, checked: a whole number from 1 to {@link MAX_ACCOUNTS}. */
function accountCount(accounts: number | undefined): number {
  if (accounts === undefined) {
    return 1;
  }
  if (!Number.isInteger(accounts) || accounts < 1 || accounts > MAX_ACCOUNTS) {
    throw new Error(
      `LocalCloud: accounts must be a whole number from 1 to ${MAX_ACCOUNTS}, got ${JSON.stringify(accounts)}`,
    );
  }
  return accounts;
}

function toFaultPlan(faults: FaultPlan | FaultPlanSpec | undefined): FaultPlan {
  if (faults instanceof FaultPlan) {
    return faults;
  }
  return faults === undefined ? FaultPlan.none() : FaultPlan.parse(faults);
}
