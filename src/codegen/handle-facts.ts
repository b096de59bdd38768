/**
 * protocol/functions.json as the generator reads it, and the policy around it: which public
 * functions the generated handles must cover, which they leave out and why.
 */
import { handleMethodName } from './handle-names.js';

export interface ApiFunctionArg {
  readonly name: string;
  readonly type: string;
  readonly dir?: 'in' | 'out';
}

export type ApiCarrier =
  | {
      readonly via: 'procedure';
      readonly program: string;
      readonly procedure: string;
      readonly number: number;
      readonly also?: readonly string[];
    }
  | { readonly via: 'procedures'; readonly procedures: readonly string[] }
  | { readonly via: 'local' }
  | { readonly via: 'stream'; readonly callback: string }
  | { readonly via: 'driver' | 'client'; readonly callbacks: readonly string[] };

export interface ApiFunction {
  readonly library: 'libvirt' | 'libvirt-qemu' | 'libvirt-lxc' | 'libvirt-admin';
  readonly header: string;
  readonly since: string;
  readonly returns: string;
  readonly args: readonly ApiFunctionArg[];
  readonly carrier: ApiCarrier;
}

export interface ApiFunctions {
  readonly libvirt: string;
  readonly functions: Readonly<Record<string, ApiFunction>>;
  readonly objects: Readonly<Record<string, string>>;
  readonly structs: Readonly<
    Record<string, { readonly struct: string; readonly fields: readonly ApiFunctionArg[] }>
  >;
}

/**
 * Public functions carried by RPC that the generated handles leave out, each with its reason.
 * Event (de)registration is left out by rule (isEventRegistration), not listed here.
 */
export const EXCLUDED: Readonly<Record<string, string>> = {
  virConnectOpen: 'opening a connection is connect(uri, options)',
  virConnectOpenAuth: 'opening a connection is connect(uri, options); credentials go in `auth`',
  virConnectOpenReadOnly: 'opening a connection is connect(uri, { readonly: true })',
  virConnectClose: 'close() / Symbol.asyncDispose, which also ends the transport',
  virAdmConnectOpen: 'opening an admin connection is connectAdmin(socketPath)',
  virAdmConnectClose: 'close() / Symbol.asyncDispose, which also ends the transport',
  virDomainMigrate:
    'migrate(dest, options): the client drives Begin/Prepare/Perform/Finish/Confirm',
  virDomainMigrate2: 'migrate(dest, options): the client drives the migration phases',
  virDomainMigrate3: 'migrate(dest, options): the client drives the migration phases',
  virDomainMigrateToURI: 'migrateToURI(dconnuri, options)',
  virDomainMigrateToURI2: 'migrateToURI(dconnuri, options)',
  virDomainMigrateToURI3: 'migrateToURI(dconnuri, options)',
  virDomainCreateWithFiles: 'passes file descriptors (CALL_WITH_FDS): Node cannot send fds',
  virDomainCreateXMLWithFiles: 'passes file descriptors (CALL_WITH_FDS): Node cannot send fds',
  virDomainFDAssociate: 'passes file descriptors (CALL_WITH_FDS): Node cannot send fds',
  virDomainOpenGraphics: 'passes a file descriptor (CALL_WITH_FDS): Node cannot send fds',
  virDomainOpenGraphicsFD: 'returns a file descriptor (REPLY_WITH_FDS): Node cannot receive fds',
  virDomainQemuMonitorCommandWithFiles: 'passes file descriptors both ways: Node cannot pass fds',
  virDomainLxcOpenNamespace: 'returns file descriptors (REPLY_WITH_FDS): Node cannot receive fds',
};

/** Event and close-callback (de)registration: served by `conn.events` and `conn.closed`. */
export function isEventRegistration(cName: string): boolean {
  return /(?:Event(?:Register|Deregister)(?:Any)?|(?:Register|Unregister)CloseCallback)$/.test(
    cName,
  );
}

/** What the generated handles must do with one public function. */
export type Disposition =
  | { readonly kind: 'generate' }
  | { readonly kind: 'excluded'; readonly reason: string }
  | { readonly kind: 'events' }
  /** Not carried by a procedure of its own: local, stream data, or the client's own business. */
  | { readonly kind: 'not-rpc'; readonly via: ApiCarrier['via'] };

export function disposition(cName: string, fn: ApiFunction): Disposition {
  const v = fn.carrier.via;
  if (v !== 'procedure' && v !== 'procedures') return { kind: 'not-rpc', via: v };
  if (isEventRegistration(cName)) return { kind: 'events' };
  const reason = EXCLUDED[cName];
  if (reason !== undefined) return { kind: 'excluded', reason };
  return { kind: 'generate' };
}

export interface Coverage {
  /** Functions a REMOTE, QEMU, LXC or ADMIN procedure carries, event registration aside. */
  readonly carried: readonly string[];
  readonly excluded: readonly string[];
  readonly covered: readonly string[];
  /** Carried, not excluded, and without a generated method. */
  readonly missing: readonly string[];
  /** Exclusions naming a function that is not carried by RPC (a stale entry). */
  readonly staleExclusions: readonly string[];
}

/**
 * The coverage of the handle API: every function RPC carries has a generated method, unless
 * it is event registration or excluded. `methods` names the C functions that have a method.
 */
export function coverage(facts: ApiFunctions, methods: ReadonlySet<string>): Coverage {
  const carried: string[] = [];
  const excluded: string[] = [];
  const covered: string[] = [];
  const missing: string[] = [];
  for (const [name, fn] of Object.entries(facts.functions)) {
    const d = disposition(name, fn);
    if (d.kind === 'not-rpc' || d.kind === 'events') continue;
    carried.push(name);
    if (d.kind === 'excluded') excluded.push(name);
    else if (methods.has(name) && handleMethodName({ name, args: fn.args }) !== null) {
      covered.push(name);
    } else missing.push(name);
  }
  const staleExclusions = Object.keys(EXCLUDED).filter((n) => {
    const fn = facts.functions[n];
    return fn === undefined || disposition(n, fn).kind !== 'excluded';
  });
  return { carried, excluded, covered, missing, staleExclusions };
}

/** `N/M functions, K excluded`: N covered of the M non-excluded carried ones. */
export function coverageLine(c: Coverage): string {
  const m = c.carried.length - c.excluded.length;
  return `${c.covered.length}/${m} functions, ${c.excluded.length} excluded`;
}
