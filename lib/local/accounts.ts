/**
 * The accounts of a LocalCloud: each has its own root access key and 16-digit id, its RAM (roles, policies,
 * temporary credentials), its Function Compute functions and its ROS stacks, change sets and launch templates, in
 * its own part of the state. ECS images live in one model, each with its owner (an image can be shared across
 * accounts). `AccountDirectory` tells which account an access key belongs to, so a request is attributed to the
 * account whose credentials signed it.
 */
import { randomInt } from 'crypto';
import type { KeyStore } from './auth';
import { Ram as RamStore } from './ram';
import type { StateStore } from './state';
import type { FcApi, FunctionCompute } from './fc';
import type { AccessKey, KeyLookup, PolicyDocument, Ram, RoleDefinition, TemporaryCredentials } from './ram';
import type { ChangeSets, LaunchTemplateStore, RosService, StackEngine, StackGroups } from './ros';
import type { KeyAccount } from './server';

/** What an account keeps of its identity in the state. */
export interface AccountState {
  accountId: string;
}

/** A 16-digit account id starting with 1, as Alibaba Cloud's are: below 2^53, so JSON numbers keep it exact. */
export function newAccountId(): string {
  return `1${String(randomInt(0, 10_000_000)).padStart(7, '0')}${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
}

/** An account's id and root key, as a client needs them. */
export interface AccountKey {
  readonly accountId: string;
  readonly credentials: AccessKey;
}

/**
 * Every account a state holds, the first one first, with its root key: what a client of a LocalCloud another process
 * serves (or served) needs to call it as each account. Reads the state without changing it.
 */
export function readAccounts(state: StateStore): AccountKey[] {
  return Array.from({ length: state.accountCount() }, (_, i) => {
    const store = state.account(i);
    const identity = store.section<AccountState>('account', () => ({ accountId: '' }));
    return { accountId: identity.accountId, credentials: new RamStore(store).rootCredentials };
  });
}

/** The services of one account, as LocalCloud wires them. */
export interface AccountServices {
  readonly ram: Ram;
  readonly fc: FunctionCompute;
  readonly fcApi: FcApi;
  readonly ros: StackEngine;
  readonly rosApi: RosService;
  readonly changeSets: ChangeSets;
  readonly launchTemplates: LaunchTemplateStore;
  readonly stackGroups: StackGroups;
}

/** One account of a LocalCloud: `cloud.accounts[i]`. */
export class LocalAccount {
  /** Function Compute 3.0 of this account: its functions, invocations and their logs. */
  readonly fc: FunctionCompute;
  /** ROS of this account: its stacks and the engine that runs their operations. */
  readonly ros: StackEngine;
  /** ROS change sets of this account. */
  readonly changeSets: ChangeSets;
  /** The ECS launch templates this account's stacks created. */
  readonly launchTemplates: LaunchTemplateStore;
  /** The ROS stack groups this account administers (their instances live in the target accounts' `ros`). */
  readonly stackGroups: StackGroups;
  /** @internal */
  readonly services: AccountServices;

  constructor(
    /** The account's position: 0 for the first account (`cloud.accountId`). */
    readonly index: number,
    /** The 16-digit account id. */
    readonly accountId: string,
    services: AccountServices,
  ) {
    this.services = services;
    this.fc = services.fc;
    this.ros = services.ros;
    this.changeSets = services.changeSets;
    this.launchTemplates = services.launchTemplates;
    this.stackGroups = services.stackGroups;
  }

  /** The account's root access key: allowed everything in this account. */
  get credentials(): AccessKey {
    return this.services.ram.rootCredentials;
  }

  /** Creates or replaces a RAM role of this account. */
  putRole(role: RoleDefinition): void {
    this.services.ram.putRole(role);
  }

  /** A RAM role of this account by name, or undefined. */
  getRole(roleName: string): RoleDefinition | undefined {
    return this.services.ram.getRole(roleName);
  }

  /** The ARN of a role of this account: `acs:ram::<account>:role/<name>`. */
  roleArn(roleName: string): string {
    return `acs:ram::${this.accountId}:role/${roleName}`;
  }

  /** Temporary credentials of this account for a role, allowed only what `policy` allows. */
  issueRoleCredentials(roleName: string, policy: PolicyDocument, ttlSeconds?: number): TemporaryCredentials {
    return this.services.ram.issueRoleCredentials(roleName, policy, ttlSeconds);
  }

  /** What a service gets when it assumes a role of this account (see `LocalCloud.assumeRole`). */
  assumeRole(roleName: string, service = 'fc.aliyuncs.com', ttlSeconds?: number): TemporaryCredentials {
    return this.services.ram.assumeRoleAsService(roleName, service, ttlSeconds);
  }
}

/** Which account an access key belongs to: root keys and role credentials are each kept by their account's RAM. */
export class AccountDirectory implements KeyStore {
  constructor(private readonly accounts: () => readonly LocalAccount[]) {}

  lookup(accessKeyId: string): KeyLookup | undefined {
    for (const account of this.accounts()) {
      const key = account.services.ram.lookup(accessKeyId);
      if (key) {
        return key;
      }
    }
    return undefined;
  }

  /** The account of a key `lookup` found (the first account for an unknown key, which the authenticator refused). */
  accountOf(accessKeyId: string): KeyAccount {
    const all = this.accounts();
    const account = all.find((a) => a.services.ram.lookup(accessKeyId)) ?? all[0];
    return { accountId: account.accountId, ram: account.services.ram };
  }

  /** Whether an account id is one of this cloud's. */
  has(accountId: string): boolean {
    return this.accounts().some((a) => a.accountId === accountId);
  }
}
