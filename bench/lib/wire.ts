// What a client's calls look like on the wire, for bench/rpc.ts: dumpcap records the loopback
// traffic to the daemon's port during one run, tshark gives back every TCP payload, and the
// libvirt messages in them are matched call to reply by serial. Tells how many calls each
// client really keeps in flight (its window as the daemon sees it), how many messages share a
// segment each way, and how long the daemon takes to answer.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WireStats {
  /** Calls and replies matched on the busiest connection of the capture. */
  readonly calls: number;
  /** Calls seen with no reply seen (the end of the run, or packets the capture lost). */
  readonly unanswered: number;
  /** Calls in flight (sent, not yet answered) on the wire: time-weighted mean and maximum. */
  readonly inFlightMean: number;
  readonly inFlightMax: number;
  /** Messages per TCP segment, client to daemon and daemon to client. */
  readonly callsPerSegment: number;
  readonly repliesPerSegment: number;
  /** Call seen to reply seen, microseconds: median and 90th percentile. */
  readonly replyUsP50: number;
  readonly replyUsP90: number;
}

/** True when dumpcap and tshark are installed and may capture on `lo`. */
export function canCapture(): boolean {
  const r = spawnSync('dumpcap', ['-D'], { encoding: 'utf8' });
  return r.status === 0 && /\blo\b/.test(r.stdout) && spawnSync('tshark', ['-v']).status === 0;
}

/** A running capture of the TCP traffic to and from `port` on loopback. */
export class WireCapture {
  private readonly dir = mkdtempSync(join(tmpdir(), 'vw-wire-'));
  private readonly file = join(this.dir, 'cap.pcapng');
  private readonly proc: ChildProcess;
  private readonly ready: Promise<void>;

  constructor(private readonly port: number) {
    this.proc = spawn('dumpcap', ['-q', '-i', 'lo', '-f', `tcp port ${port}`, '-w', this.file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.ready = new Promise((resolve, reject) => {
      let err = '';
      this.proc.stderr?.on('data', (b: Buffer) => {
        err += b.toString();
        if (/File:|Capturing on/.test(err)) resolve();
      });
      this.proc.once('exit', (code) => reject(new Error(`dumpcap exited (${code}): ${err}`)));
      setTimeout(resolve, 2000).unref(); // some builds are silent with -q
    });
  }

  /** Resolves once dumpcap records. */
  started(): Promise<void> {
    return this.ready;
  }

  /** Stops the capture and analyses the connection that carried the most messages. */
  async stop(): Promise<WireStats | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.proc.kill('SIGTERM');
      await exited;
    }
    try {
      const r = spawnSync(
        'tshark',
        [
          '-r',
          this.file,
          '-o',
          'tcp.desegment_tcp_streams:FALSE',
          '-Y',
          'tcp.len > 0',
          '-T',
          'fields',
          '-e',
          'frame.time_epoch',
          '-e',
          'tcp.stream',
          '-e',
          'tcp.srcport',
          '-e',
          'tcp.payload',
        ],
        { encoding: 'utf8', maxBuffer: 1 << 30 },
      );
      if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
      return analyse(r.stdout, this.port);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

interface Segment {
  readonly t: number;
  readonly toDaemon: boolean;
  readonly bytes: Buffer;
}

/**
 * Cuts each direction's byte stream into messages (length word first) and
 * pairs calls with replies by serial; only the 28-byte headers are read, the
 * rest of a message is skipped by its length word.
 */
export function analyse(tsv: string, port: number): WireStats | null {
  const streams = new Map<string, Segment[]>();
  for (const line of tsv.split('\n')) {
    const [t, stream, src, hex] = line.split('\t');
    if (!t || !stream || !src || !hex) continue;
    let segs = streams.get(stream);
    if (!segs) {
      segs = [];
      streams.set(stream, segs);
    }
    segs.push({
      t: Number(t),
      toDaemon: Number(src) !== port,
      bytes: Buffer.from(hex.replaceAll(':', ''), 'hex'),
    });
  }
  const busiest = [...streams.values()].sort((a, b) => b.length - a.length)[0];
  if (!busiest) return null;

  // Per direction: the bytes still owed to a message begun in an earlier segment.
  const skip = { call: 0, reply: 0 };
  const partial = { call: Buffer.alloc(0), reply: Buffer.alloc(0) };
  const sent = new Map<number, number>();
  const latencies: number[] = [];
  const events: Array<[number, number]> = []; // time, +1 call / -1 reply
  let callSegs = 0;
  let replySegs = 0;
  let callMsgs = 0;
  let replyMsgs = 0;
  for (const s of busiest) {
    const dir = s.toDaemon ? 'call' : 'reply';
    let buf = Buffer.concat([partial[dir], s.bytes]);
    partial[dir] = Buffer.alloc(0);
    const drop = Math.min(skip[dir], buf.length);
    skip[dir] -= drop;
    buf = buf.subarray(drop);
    let n = 0;
    while (buf.length >= 28) {
      const len = buf.readUInt32BE(0);
      const type = buf.readInt32BE(16);
      const serial = buf.readUInt32BE(20);
      n++;
      if (s.toDaemon && type === 0) {
        sent.set(serial, s.t);
      } else if (!s.toDaemon && type === 1) {
        const at = sent.get(serial);
        if (at !== undefined) {
          // Only answered calls count: a capture that lost packets under load must not
          // leave calls "in flight" for ever.
          sent.delete(serial);
          latencies.push((s.t - at) * 1e6);
          events.push([at, 1], [s.t, -1]);
        }
      }
      if (len > buf.length) {
        skip[dir] = len - buf.length;
        buf = buf.subarray(buf.length);
      } else buf = buf.subarray(len);
    }
    if (buf.length > 0) partial[dir] = Buffer.from(buf);
    if (s.toDaemon) {
      callSegs++;
      callMsgs += n;
    } else {
      replySegs++;
      replyMsgs += n;
    }
  }
  if (latencies.length === 0) return null;
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let inFlight = 0;
  let max = 0;
  let area = 0;
  const t0 = events[0]![0];
  let last = t0;
  for (const [t, d] of events) {
    area += inFlight * (t - last);
    last = t;
    inFlight += d;
    max = Math.max(max, inFlight);
  }
  latencies.sort((a, b) => a - b);
  const pick = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    calls: latencies.length,
    unanswered: sent.size,
    inFlightMean: last > t0 ? area / (last - t0) : 0,
    inFlightMax: max,
    callsPerSegment: callSegs ? callMsgs / callSegs : 0,
    repliesPerSegment: replySegs ? replyMsgs / replySegs : 0,
    replyUsP50: pick(0.5),
    replyUsP90: pick(0.9),
  };
}
