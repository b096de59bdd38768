import type { VirErrorDomain } from '../generated/api.js';
import { lxcProgram } from '../generated/lxc.js';
import {
  lxcProcedureApis,
  type ProcedureApi,
  qemuProcedureApis,
  remoteProcedureApis,
} from '../generated/procedure-apis.js';
import { qemuProgram } from '../generated/qemu.js';
import type { ProcedureInfo, ProgramInfo } from '../xdr/program.js';
import { libvirtError, type SimError } from './errors.js';

// What libvirtd says about a call in its own words: the public function behind
// the procedure and the error domain its errors carry.

const APIS: ReadonlyMap<string, ReadonlyMap<number, ProcedureApi>> = new Map([
  ['remote', remoteProcedureApis],
  [qemuProgram.name, qemuProcedureApis],
  [lxcProgram.name, lxcProcedureApis],
]);

type From = keyof typeof VirErrorDomain;

/**
 * The error domain of each public header's source file (its VIR_FROM_THIS):
 * the domain of the errors the public function itself raises (read-only
 * refusals, "not supported"). libvirt-host.c reports as VIR_FROM_DOMAIN;
 * libvirt-qemu.c and libvirt-lxc.c as VIR_FROM_NONE.
 */
const HEADER_DOMAIN: Readonly<Record<string, From>> = {
  'libvirt-domain.h': 'VIR_FROM_DOMAIN',
  'libvirt-host.h': 'VIR_FROM_DOMAIN',
  'libvirt-network.h': 'VIR_FROM_NETWORK',
  'libvirt-storage.h': 'VIR_FROM_STORAGE',
  'libvirt-nodedev.h': 'VIR_FROM_NODEDEV',
  'libvirt-secret.h': 'VIR_FROM_SECRET',
  'libvirt-interface.h': 'VIR_FROM_INTERFACE',
  'libvirt-nwfilter.h': 'VIR_FROM_NWFILTER',
  'libvirt-domain-snapshot.h': 'VIR_FROM_DOMAIN_SNAPSHOT',
  'libvirt-domain-checkpoint.h': 'VIR_FROM_DOMAIN_CHECKPOINT',
  'libvirt-stream.h': 'VIR_FROM_STREAMS',
  'libvirt-qemu.h': 'VIR_FROM_NONE',
  'libvirt-lxc.h': 'VIR_FROM_NONE',
};

/** libvirt.c (not libvirt-host.c) opens and closes connections. */
const FROM_LIBVIRT_C: ReadonlySet<string> = new Set([
  'virConnectOpen',
  'virConnectOpenAuth',
  'virConnectOpenReadOnly',
  'virConnectClose',
]);

/** The public function behind a procedure, guessed from its name (for procedures no function carries). */
export function apiName(program: ProgramInfo, proc: ProcedureInfo): string {
  const ACRONYMS: Record<string, string> = {
    XML: 'XML',
    UUID: 'UUID',
    ID: 'ID',
    CPU: 'CPU',
    OS: 'OS',
    NUMA: 'NUMA',
    NMI: 'NMI',
    FS: 'FS',
    MAC: 'MAC',
    PM: 'PM',
    IO: 'IO',
    TPM: 'TPM',
  };
  const words = proc.name
    .split('_')
    .map((w) => ACRONYMS[w] ?? w.charAt(0) + w.slice(1).toLowerCase());
  if (program.name !== 'remote') {
    const extra = program.name.charAt(0).toUpperCase() + program.name.slice(1);
    const at = words.indexOf('Domain');
    words.splice(at < 0 ? 0 : at + 1, 0, extra);
  }
  return `vir${words.join('')}`;
}

/** The name libvirt's errors give the public function behind a procedure. */
export function publicName(program: ProgramInfo, proc: ProcedureInfo): string {
  return APIS.get(program.name)?.get(proc.number)?.fn ?? apiName(program, proc);
}

/** The error domain of what the public function behind a procedure reports itself. */
export function callErrorDomain(program: ProgramInfo, proc: ProcedureInfo): From {
  const api = APIS.get(program.name)?.get(proc.number);
  if (!api) return 'VIR_FROM_DOMAIN';
  if (api.fn !== null && FROM_LIBVIRT_C.has(api.fn)) return 'VIR_FROM_NONE';
  return HEADER_DOMAIN[api.header] ?? 'VIR_FROM_DOMAIN';
}

/** What a read-only connection (VIR_CONNECT_RO) may still call, by the procedure's ACL. */
export function readonlyAllowed(acl: readonly string[]): boolean {
  return acl.every(
    (a) =>
      a.split(':').length > 2 || // checks that depend on flags: the base check decides
      a === 'none' ||
      /^[a-z_]+:(getattr|read|search_[a-z_]+)$/.test(a),
  );
}

/** "read only access prevents virFoo", in the error domain of virFoo's kind of object. */
export function readonlyDenied(program: ProgramInfo, proc: ProcedureInfo): SimError {
  return libvirtError(
    'VIR_ERR_OPERATION_DENIED',
    callErrorDomain(program, proc),
    `read only access prevents ${publicName(program, proc)}`,
  );
}

/** What libvirtd answers for a call its drivers do not implement: "not supported" from the function's own file. */
export function notSupported(program: ProgramInfo, proc: ProcedureInfo): SimError {
  return libvirtError(
    'VIR_ERR_NO_SUPPORT',
    callErrorDomain(program, proc),
    publicName(program, proc),
  );
}

/**
 * A call the simulated daemon does not serve, as libvirtd without a driver
 * for it answers: the public function refuses a read-only connection first,
 * then finds no driver.
 */
export function unserved(program: ProgramInfo, proc: ProcedureInfo, readonly: boolean): SimError {
  return readonly && !readonlyAllowed(proc.acl)
    ? readonlyDenied(program, proc)
    : notSupported(program, proc);
}
