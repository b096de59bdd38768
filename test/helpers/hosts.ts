import { inject } from 'vitest';

/** Addresses of the real libvirt test hosts started by the global setup. */
export function hosts(): Record<string, string> {
  return inject('hosts');
}

export function host(name: string): string {
  const v = inject('hosts')[name];
  if (v === undefined)
    throw new Error(`test host variable ${name} is not set by scripts/test-hosts.sh env`);
  return v;
}
