/**
 * bench/rpc.ts's wire analysis (bench/lib/wire.ts): libvirt messages cut out
 * of captured TCP payloads, calls paired with replies by serial, the window
 * of calls in flight measured over time.
 */
import { describe, expect, it } from 'vitest';
import { analyse } from '../../../bench/lib/wire.js';

const PORT = 16509;

/** One libvirt message header (28 bytes) plus `extra` body bytes. */
function msg(type: number, serial: number, extra = 0): Buffer {
  const b = Buffer.alloc(28 + extra);
  b.writeUInt32BE(b.length, 0);
  b.writeUInt32BE(0x20008086, 4);
  b.writeUInt32BE(1, 8);
  b.writeInt32BE(157, 12);
  b.writeInt32BE(type, 16);
  b.writeUInt32BE(serial, 20);
  return b;
}

/** A tshark fields line: time, stream, source port, payload as colon-separated hex. */
function line(t: number, stream: number, toDaemon: boolean, bytes: Buffer): string {
  const hex = [...bytes].map((x) => x.toString(16).padStart(2, '0')).join(':');
  return `${t}\t${stream}\t${toDaemon ? 40000 : PORT}\t${hex}`;
}

describe('wire analysis', () => {
  it('pairs calls and replies across segments and measures the window', () => {
    const both = Buffer.concat([msg(0, 1), msg(0, 2, 8)]);
    const lines = [
      // two calls in one segment at t=0
      line(0, 0, true, both),
      // reply 1 split over two segments at t=1; reply 2 whole at t=3
      line(1, 0, false, msg(1, 1, 12).subarray(0, 20)),
      line(1, 0, false, msg(1, 1, 12).subarray(20)),
      line(3, 0, false, msg(1, 2, 4)),
      // another, quieter connection is ignored
      line(0.5, 1, true, msg(0, 9)),
    ];
    const s = analyse(lines.join('\n'), PORT);
    expect(s).not.toBeNull();
    expect(s!.calls).toBe(2);
    expect(s!.unanswered).toBe(0);
    expect(s!.inFlightMax).toBe(2);
    // 2 in flight for 1 s, then 1 for 2 s: mean 4/3
    expect(s!.inFlightMean).toBeCloseTo(4 / 3, 6);
    expect(s!.callsPerSegment).toBe(2);
    // replies: 2 messages over 3 segments (the first spans two)
    expect(s!.repliesPerSegment).toBeCloseTo(2 / 3, 6);
    expect(s!.replyUsP50).toBeCloseTo(3e6, 0);
  });

  it('does not count calls whose replies the capture lost as in flight', () => {
    const lines = [
      line(0, 0, true, msg(0, 1)),
      line(0, 0, true, msg(0, 2)),
      line(1, 0, false, msg(1, 2)),
      line(2, 0, true, msg(0, 3)),
      line(3, 0, false, msg(1, 3)),
    ];
    const s = analyse(lines.join('\n'), PORT)!;
    expect(s.calls).toBe(2);
    expect(s.unanswered).toBe(1);
    expect(s.inFlightMax).toBe(1);
  });

  it('gives null for a capture with no answered call', () => {
    expect(analyse('', PORT)).toBeNull();
    expect(analyse(line(0, 0, true, msg(0, 1)), PORT)).toBeNull();
  });
});
