import { DigestMd5Mechanism } from './digest-md5.js';
import { SaslError } from './errors.js';
import type { SaslCredentials, SaslMechanism } from './mechanism.js';
import { PlainMechanism } from './plain.js';
import { ScramMechanism } from './scram.js';
import { bytesFromXdrChars, xdrCharsFromBytes } from './util.js';

/** The mechanisms implemented here, in order of preference. */
export const SUPPORTED_MECHANISMS = [
  'SCRAM-SHA-256',
  'SCRAM-SHA-1',
  'DIGEST-MD5',
  'PLAIN',
] as const;
export type SupportedMechanism = (typeof SUPPORTED_MECHANISMS)[number];
/** libvirt's floor for a security layer on a channel that is not already secure (DES strength). */
export const MIN_SSF_INSECURE = 56;
/** Of ours, those able to negotiate a layer of at least MIN_SSF_INSECURE. */
const LAYERED: ReadonlySet<string> = new Set(['DIGEST-MD5']);

const isSupported = (m: string): m is SupportedMechanism =>
  (SUPPORTED_MECHANISMS as readonly string[]).includes(m);

/**
 * Picks the mechanism as libvirt's client would, restricted to ours:
 * `wanted` (from `auth=sasl.MECH`, case-sensitive) if the server offers it,
 * else our most preferred one the server offers. On a channel that is not
 * secure (plain TCP) only mechanisms with a security layer qualify.
 */
export function chooseMechanism(
  serverList: readonly string[],
  wanted: string | undefined,
  secure: boolean,
): SupportedMechanism {
  const ours = SUPPORTED_MECHANISMS.join(', ');
  if (wanted !== undefined) {
    if (!isSupported(wanted))
      throw new SaslError(`SASL mechanism ${wanted} not supported; supported: ${ours}`);
    if (!serverList.includes(wanted)) {
      throw new SaslError(
        `SASL mechanism ${wanted} not supported by server (it offers ${serverList.join(', ') || 'none'})`,
      );
    }
    if (!secure && !LAYERED.has(wanted)) {
      throw new SaslError(
        `SASL mechanism ${wanted} has no security layer, which libvirt requires (SSF >= ${MIN_SSF_INSECURE}) ` +
          'on a connection that is neither TLS nor a unix socket',
      );
    }
    return wanted;
  }
  const pick = SUPPORTED_MECHANISMS.find(
    (m) => serverList.includes(m) && (secure || LAYERED.has(m)),
  );
  if (!pick) {
    throw new SaslError(
      `no usable SASL mechanism: the server offers ${serverList.join(', ') || 'none'}; ` +
        `supported: ${ours}${secure ? '' : ` (on plain TCP only those with a security layer: ${[...LAYERED].join(', ')})`}`,
    );
  }
  return pick;
}

export interface MechanismOptions {
  /** digest-uri host: the URI host, `localhost` when absent. */
  readonly host: string;
  /** TLS or unix socket: no security layer needed (libvirt then asks for none). */
  readonly secure: boolean;
}

export function createMechanism(
  name: SupportedMechanism,
  creds: SaslCredentials,
  opts: MechanismOptions,
): SaslMechanism {
  switch (name) {
    case 'SCRAM-SHA-256':
      return new ScramMechanism('sha256', creds);
    case 'SCRAM-SHA-1':
      return new ScramMechanism('sha1', creds);
    case 'PLAIN':
      return new PlainMechanism(creds);
    case 'DIGEST-MD5':
      return new DigestMd5Mechanism(creds, {
        service: 'libvirt',
        host: opts.host,
        minSsf: opts.secure ? 0 : MIN_SSF_INSECURE,
        maxSsf: opts.secure ? 0 : 100000,
      });
  }
}

/** The three SASL procedures, as the generated remote methods shape them. */
export interface SaslCalls {
  init(): Promise<{ mechlist: string }>;
  start(args: {
    mech: string;
    nil: number;
    data: number[];
  }): Promise<{ complete: number; nil: number; data: number[] }>;
  step(args: { nil: number; data: number[] }): Promise<{
    complete: number;
    nil: number;
    data: number[];
  }>;
}

export interface SaslRunOptions extends MechanismOptions {
  readonly wanted?: string | undefined;
  readonly credentials: (mechanism: SupportedMechanism) => Promise<SaslCredentials>;
  /** Builds the mechanism instead of {@link createMechanism} (tests: a forced cipher). */
  readonly create?: (name: SupportedMechanism, creds: SaslCredentials) => SaslMechanism;
}

const toWire = (b: Uint8Array | null): { nil: number; data: number[] } =>
  b === null ? { nil: 1, data: [] } : { nil: 0, data: xdrCharsFromBytes(b) };
const fromWire = (r: { nil: number; data: number[] }): Uint8Array | null =>
  r.nil ? null : bytesFromXdrChars(r.data);

/**
 * The client side of libvirt's SASL exchange (remoteAuthSASL): INIT for the
 * mechanism list, START with the initial response, STEP until both sides are
 * complete; the client always processes the server's last data (mutual
 * authentication), and on an insecure channel insists on SSF >= 56.
 * Returns the finished mechanism, whose `layer` must then carry all traffic.
 */
export async function runSasl(calls: SaslCalls, opts: SaslRunOptions): Promise<SaslMechanism> {
  const { mechlist } = await calls.init();
  const offered = mechlist
    .split(/[,\s]+/)
    .map((m) => m.trim())
    .filter(Boolean);
  const name = chooseMechanism(offered, opts.wanted, opts.secure);
  const creds = await opts.credentials(name);
  const mech = opts.create ? opts.create(name, creds) : createMechanism(name, creds, opts);
  let res = await calls.start({ mech: name, ...toWire(mech.start()) });
  for (let round = 0; ; round++) {
    if (round > 16) throw new SaslError(`SASL ${name}: too many rounds`);
    const serverData = fromWire(res);
    if (res.complete) {
      // The server may be done before us: its last data (SCRAM's signature,
      // DIGEST-MD5's rspauth) still has to verify here.
      if (!mech.complete) {
        const out = mech.step(serverData);
        if (out !== null && out.length > 0)
          throw new SaslError(`SASL ${name}: the server finished before the client`);
      }
      if (!mech.complete)
        throw new SaslError(`SASL ${name}: the server finished before the client`);
      break;
    }
    res = await calls.step(toWire(mech.step(serverData)));
  }
  if (!opts.secure && mech.ssf < MIN_SSF_INSECURE) {
    throw new SaslError(`negotiation SSF ${mech.ssf} was not strong enough`);
  }
  return mech;
}
