/**
 * Event payloads as they come off the wire, for any generated event codec:
 * a seeded random value of the payload struct, encoded, then decoded.
 */
import { join } from 'node:path';
import { loadProtocol } from '../../src/codegen/load.js';
import type { Codec } from '../../src/xdr/index.js';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { RandomValues, Rng } from './random.js';

export const protocol = loadProtocol(join(import.meta.dirname, '../../protocol'));
const random = new RandomValues(protocol.symbols);

export function wirePayload(codec: Codec<unknown>, seed: number): Record<string, unknown> {
  const w = new XdrWriter();
  codec.encode(w, random.of(codec.name, new Rng(seed)));
  const r = new XdrReader(w.finish());
  const decoded = codec.decode(r) as Record<string, unknown>;
  r.done();
  return decoded;
}
