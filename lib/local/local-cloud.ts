/**
 * `LocalCloud`: makes the services (RAM, ECS, Function Compute, ROS with its change sets and launch templates) over
 * one state, mounts their APIs on the server, wires the fault plan and the variants into them, and is the facade
 * tests and the CLIs use (`cloud.ecs`, `cloud.fc`, `cloud.ros`, credentials, roles, callbacks, calls, faults).
 */
import { randomInt } from 'crypto';
import type { AddressInfo } from 'net';
import { Authenticator, FileNonceStore } from './auth';
import { Callback, CallbackOptions, Callbacks } from './callbacks';
import { systemClock } from './clock';
import { EcsOptions, EcsService } from './ecs';
import { FaultPlan, FaultPlanSpec, isFaultHook } from './faults';
import { FcApi, FunctionCompute, InvocationHooks } from './fc';
import { AccessKey, PolicyDocument, Ram, RoleDefinition, TemporaryCredentials } from './ram';
import {
  ChangeSets,
  ClientTokens,
  LaunchTemplateStore,
  RosService,
  StackEngine,
  type CloudServices,
  type EngineOptions,
} from './ros';
import { CallRecord, FaultHook, LocalServer } from './server';
import { StateStore } from './state';
import { StateLock } from './state-lock';
import { CloudVariants, resolveVariants } from './variants';

export interface LocalCloudOptions extends EcsOptions {
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
}

interface AccountState {
  accountId: string;
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
      return cloud;
    } catch (err) {
      cloud?.state.close();
      lock?.release();
      throw err;
    }
  }

  /** The account all resources belong to (a 16-digit id, kept in the state file). */
  readonly accountId: string;
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
    const account = this.state.section<AccountState>('account', () => ({
      // 16 digits starting with 1, as Alibaba Cloud account ids are: below 2^53, so JSON numbers keep them exact.
      accountId: `1${String(randomInt(0, 10_000_000)).padStart(7, '0')}${String(randomInt(0, 100_000_000)).padStart(8, '0')}`,
    }));
    this.accountId = account.accountId;
    this.ram = new Ram(this.state);
    this.server = new LocalServer({
      ram: this.ram,
      authenticator: new Authenticator(this.ram, {
        maxSkewMs: options.maxSkewMs,
        // Beside the state file: a request captured before a restart is still refused after it.
        ...(options.stateFile && { nonces: new FileNonceStore(`${options.stateFile}.nonces`) }),
      }),
      accountId: this.accountId,
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
      { ...options, variants: this.variants },
      {
        onCopy: (copy) => this.plan.onCopy(copy),
        onCancelRefused: (imageId) => this.plan.note('cancelNotSupported', imageId),
      },
    );
    this.server.addService(this.ecs);
    this.fc = new FunctionCompute({
      accountId: this.accountId,
      ram: this.ram,
      store: this.state,
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
    this.server.addRoute(new FcApi(this.fc, this.accountId));
    this.callbacks = new Callbacks(() => this.endpoint, {
      failFirst: () => this.plan.responseUrlFailures(),
      onInjectedFailure: (id) => this.plan.note('responseUrlFailure', id),
    });
    this.callbacks.routes.forEach((route) => this.server.addRoute(route));
    this.launchTemplates = new LaunchTemplateStore(this.state);
    const rosClock = options.ros?.clock ?? systemClock;
    const services: CloudServices = {
      ram: this.ram,
      fc: this.fc,
      ecs: this.ecs,
      launchTemplates: this.launchTemplates,
      variants: this.variants,
      clock: rosClock,
      createCallback: (o) => this.callbacks.create(o),
      discardCallback: (id) => this.callbacks.discard(id),
      deliveries: (logicalId, requestType) =>
        options.customResourceDeliveries?.(logicalId, requestType) ??
        this.plan.deliveries(logicalId, requestType),
    };
    this.ros = new StackEngine(this.state, this.accountId, services, { ...options.ros, clock: rosClock });
    this.changeSets = new ChangeSets(this.state, this.ros, services, this.variants, {
      creationMs: options.ros?.changeSetCreationMs,
      clock: rosClock,
    });
    this.server.addService(
      new RosService(
        new ClientTokens(this.state, rosClock),
        this.ros,
        this.changeSets,
        () => this.ecs.regions(),
        () => this.variants.stackEventsOrder,
      ),
    );
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

  /** The root account's access key. */
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

  /** Stops serving, kills running functions, closes every connection and lets go of the state file. */
  async stop(): Promise<void> {
    await this.fc.stop();
    await this.server.close();
    this.state.close();
    this.lock?.release();
  }
}

function toFaultPlan(faults: FaultPlan | FaultPlanSpec | undefined): FaultPlan {
  if (faults instanceof FaultPlan) {
    return faults;
  }
  return faults === undefined ? FaultPlan.none() : FaultPlan.parse(faults);
}
