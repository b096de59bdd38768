/**
 * The one place where XDR and libvirt names become TypeScript names.
 *
 * - camelCase: struct fields and procedure methods (`cookie_in` -> `cookieIn`,
 *   `DOMAIN_MIGRATE_PREPARE3_PARAMS` -> `domainMigratePrepare3Params`).
 * - pascalCase: types (`remote_domain_get_info_ret` -> `RemoteDomainGetInfoRet`).
 * Names that are entirely upper case are read as SCREAMING_SNAKE and lowered
 * first; mixed-case names (`nrVirtCpu`, `virNetMessageHeader`) keep their humps.
 */
function words(name: string): string[] {
  const base = /[a-z]/.test(name) ? name : name.toLowerCase();
  return base.split('_').filter((w) => w !== '');
}

const upperFirst = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

export function camelCase(name: string): string {
  const ws = words(name);
  if (ws.length === 0) throw new Error(`cannot make a name from ${JSON.stringify(name)}`);
  const [first, ...rest] = ws;
  return first! + rest.map(upperFirst).join('');
}

export function pascalCase(name: string): string {
  const ws = words(name);
  if (ws.length === 0) throw new Error(`cannot make a name from ${JSON.stringify(name)}`);
  return ws.map(upperFirst).join('');
}

/** `REMOTE_PROC_CONNECT_OPEN` with prefix `REMOTE_PROC_` -> `CONNECT_OPEN`. */
export function stripPrefix(name: string, prefix: string): string {
  if (!name.startsWith(prefix)) throw new Error(`${name} does not start with ${prefix}`);
  return name.slice(prefix.length);
}
