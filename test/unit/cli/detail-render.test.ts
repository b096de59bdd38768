/**
 * dominfo, domjobinfo and events as virsh 9.0 prints them: every line and
 * label, virsh's units and conditions, and the typed JSON forms.
 */
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../src/api/events.js';
import { jobStats } from '../../../src/api/migration/index.js';
import { type DomInfo, domInfoJson, renderDomInfo } from '../../../src/cli/dominfo.js';
import { domainEventJson, domainEventText, virshTimestamp } from '../../../src/cli/event-format.js';
import {
  jobInfoJson,
  jobInfoLines,
  renderJobInfo,
  renderRawJobStats,
  virshCapacity,
} from '../../../src/cli/job-info.js';
import type { RemoteTypedParam } from '../../../src/generated/remote.js';

const uuid = 'bef5d278-6174-496a-aaac-d43b37086db0';
const ul = (field: string, v: bigint | number): RemoteTypedParam => ({
  field,
  value: { type: 4, ul: BigInt(v) },
});
const int = (field: string, v: number): RemoteTypedParam => ({ field, value: { type: 1, i: v } });
const str = (field: string, v: string): RemoteTypedParam => ({ field, value: { type: 7, s: v } });

/** The 23 parameters of a real completed incoming migration on libvirt 9.0 (job-completed event). */
const COMPLETED_PARAMS: RemoteTypedParam[] = [
  int('operation', 4),
  ul('time_elapsed', 5582),
  ul('time_elapsed_net', 5575),
  ul('downtime', 83),
  ul('downtime_net', 76),
  ul('setup_time', 12),
  ul('data_total', 134610944),
  ul('data_processed', 180535358),
  ul('data_remaining', 0),
  ul('memory_total', 134610944),
  ul('memory_processed', 180535358),
  ul('memory_remaining', 0),
  ul('memory_bps', 657271094),
  ul('memory_constant', 20985),
  ul('memory_normal', 43944),
  ul('memory_normal_bytes', 179994624),
  ul('memory_dirty_rate', 0),
  ul('memory_iteration', 5),
  ul('memory_postcopy_requests', 0),
  ul('memory_page_size', 4096),
  ul('disk_total', 0),
  ul('disk_processed', 0),
  ul('disk_remaining', 0),
];

const base: DomInfo = {
  id: 49,
  name: 'vw-cd-probe',
  uuid,
  osType: 'hvm',
  state: { state: 'running', reason: 'booted', stateCode: 1, reasonCode: 1 },
  vcpus: 1,
  cpuTimeNs: 1_200_000_000n,
  maxMemKiB: 131072n,
  memoryKiB: 131072n,
  persistent: false,
  autostart: false,
  managedSave: false,
  security: { model: 'none', doi: '0' },
  messages: ['tainted: running with undesirable elevated privileges'],
};

describe('dominfo', () => {
  it('prints every line virsh 9.0 prints, security model and messages included', () => {
    // virsh -c qemu+tcp://host-a/system dominfo vw-cd-probe, on the test hosts
    expect(renderDomInfo(base)).toBe(
      [
        'Id:             49',
        'Name:           vw-cd-probe',
        `UUID:           ${uuid}`,
        'OS Type:        hvm',
        'State:          running',
        'CPU(s):         1',
        'CPU time:       1.2s',
        'Max memory:     131072 KiB',
        'Used memory:    131072 KiB',
        'Persistent:     no',
        'Autostart:      disable',
        'Managed save:   no',
        'Security model: none',
        'Security DOI:   0',
        'Messages:       tainted: running with undesirable elevated privileges',
      ].join('\n'),
    );
  });

  it('adds the security label, indents further messages, and follows virsh on missing facts', () => {
    const text = renderDomInfo({
      ...base,
      id: -1,
      state: { state: 'shutoff', reason: 'unknown', stateCode: 5, reasonCode: 0 },
      cpuTimeNs: 0n,
      maxMemKiB: 0xffff_ffffn,
      persistent: undefined,
      autostart: undefined,
      managedSave: undefined,
      security: {
        model: 'selinux',
        doi: '0',
        label: { label: 'system_u:system_r:svirt_t:s0:c1,c2', enforcing: true },
      },
      messages: ['tainted: custom monitor control commands issued', 'deprecated configuration: x'],
    });
    const lines = text.split('\n');
    expect(lines).toContain('Id:             -');
    expect(lines.some((l) => l.startsWith('CPU time:'))).toBe(false); // virsh: only when non-zero
    expect(lines).toContain('Max memory:     no limit');
    expect(lines).toContain('Persistent:     unknown');
    expect(lines.some((l) => l.startsWith('Autostart:'))).toBe(false);
    expect(lines).toContain('Managed save:   unknown');
    expect(lines).toContain('Security model: selinux');
    expect(lines).toContain('Security label: system_u:system_r:svirt_t:s0:c1,c2 (enforcing)');
    expect(lines.slice(-2)).toEqual([
      'Messages:       tainted: custom monitor control commands issued',
      '                deprecated configuration: x',
    ]);
    const permissive = renderDomInfo({
      ...base,
      security: { model: 'apparmor', doi: '0', label: { label: 'libvirt-x', enforcing: false } },
      messages: [],
    });
    expect(permissive).toContain('Security label: libvirt-x (permissive)');
    expect(permissive).not.toContain('Messages:');
    // a host without a security model: no security lines at all
    expect(renderDomInfo({ ...base, security: undefined })).not.toContain('Security');
  });

  it('gives the same facts as JSON', () => {
    const j = JSON.parse(
      JSON.stringify(domInfoJson(base), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
    expect(j).toMatchObject({
      id: 49,
      name: 'vw-cd-probe',
      security: { model: 'none', doi: '0' },
      messages: ['tainted: running with undesirable elevated privileges'],
    });
    expect(domInfoJson({ ...base, id: -1, security: undefined })).toMatchObject({
      id: null,
      security: null,
    });
  });
});

describe('domjobinfo', () => {
  it("labels every parameter of a completed migration as virsh does, in virsh's order and units", () => {
    // virsh -c qemu+tcp://host-b/system domjobinfo --completed vw-cd-probe, after a migration A -> B
    expect(renderJobInfo(jobStats(3, COMPLETED_PARAMS))).toBe(
      [
        'Job type:         Completed',
        'Operation:        Incoming migration',
        'Time elapsed:     5582 ms',
        'Time elapsed w/o network: 5575 ms',
        'Data processed:   172.172 MiB',
        'Data remaining:   0.000 B',
        'Data total:       128.375 MiB',
        'Memory processed: 172.172 MiB',
        'Memory remaining: 0.000 B',
        'Memory total:     128.375 MiB',
        'Memory bandwidth: 626.823 MiB/s',
        'Dirty rate:       0 pages/s',
        'Page size:        4096 bytes',
        'Iteration:        5',
        'Postcopy requests: 0',
        'Constant pages:   20985',
        'Normal pages:     43944',
        'Normal data:      171.656 MiB',
        'Total downtime:   83 ms',
        'Downtime w/o network: 76 ms',
        'Setup time:       12 ms',
      ].join('\n'),
    );
  });

  it('says Expected downtime for a running job, shows disk figures only when non-zero, and unknown keys last', () => {
    const lines = jobInfoLines(
      jobStats(2, [
        int('operation', 5),
        ul('downtime', 300),
        ul('disk_total', 16 * 1024 * 1024),
        ul('disk_processed', 0),
        ul('disk_bps', 1024),
        ul('memory_bps', 0),
        ul('compression_cache', 64 * 1024 * 1024),
        ul('compression_pages', 12),
        int('auto_converge_throttle', 30),
        ul('disk_temp_used', 1536),
        ul('vfio_data_transferred', 7),
        str('errmsg', 'boom'),
      ]),
    );
    expect(lines.map((l) => `${l.label}: ${l.text}`)).toEqual([
      'Job type: Unbounded',
      'Operation: Outgoing migration',
      'File total: 16.000 MiB',
      'File bandwidth: 1.000 KiB/s',
      'Expected downtime: 300 ms',
      'Compression cache: 64.000 MiB',
      'Compressed pages: 12',
      'Auto converge throttle: 30',
      'Temporary disk space use: 1.500 KiB',
      'Error message: boom',
      'vfio_data_transferred: 7',
    ]);
    expect(renderJobInfo(jobStats(0, [int('operation', 5)]))).toBe('Job type:         None');
  });

  it('formats capacities as virsh does', () => {
    expect(virshCapacity(0)).toBe('0.000 B');
    expect(virshCapacity(1023)).toBe('1023.000 B');
    expect(virshCapacity(1024)).toBe('1.000 KiB');
    expect(virshCapacity(134610944)).toBe('128.375 MiB');
    expect(virshCapacity(3 * 1024 ** 4)).toBe('3.000 TiB');
  });

  it('prints typed JSON: names and numbers for type and operation, every statistic a number', () => {
    const j = jobInfoJson(jobStats(3, [...COMPLETED_PARAMS, str('errmsg', 'x')]));
    expect(j).toMatchObject({
      type: 'Completed',
      typeCode: 3,
      operation: 'Incoming migration',
      operationCode: 4,
    });
    const stats = j.stats as Record<string, unknown>;
    expect(Object.keys(stats)).toHaveLength(COMPLETED_PARAMS.length + 1);
    expect(stats.memory_total).toBe(134610944);
    expect(stats.downtime).toBe(83);
    expect(stats.errmsg).toBe('x');
    for (const [k, v] of Object.entries(stats))
      if (k !== 'errmsg') expect(typeof v, k).toBe('number');
    // beyond 2^53 a number would be rounded: a decimal string then
    const big = jobInfoJson(jobStats(2, [ul('data_total', 2n ** 60n + 1n)]));
    expect((big.stats as Record<string, unknown>).data_total).toBe('1152921504606846977');
    expect(big).not.toHaveProperty('operation');
  });

  it('prints raw statistics by libvirt name with --rawstats', () => {
    expect(renderRawJobStats(jobStats(2, [int('operation', 5), ul('memory_total', 42)]))).toBe(
      ['Job type:         Unbounded', '', 'operation: 5', 'memory_total: 42'].join('\n'),
    );
  });
});

describe('events', () => {
  const ref = { name: 'vm1', uuid, id: 4 };
  const completed = {
    type: 'job_completed',
    domain: ref,
    params: COMPLETED_PARAMS,
    stats: jobStats(3, COMPLETED_PARAMS).raw,
  } as unknown as DomainEvent<'job_completed'>;

  it('lists every parameter of job_completed on a line of its own, as virsh does', () => {
    const lines = domainEventText(completed).split('\n');
    expect(lines[0]).toBe("event 'job_completed' for domain 'vm1':");
    expect(lines.slice(1)).toHaveLength(COMPLETED_PARAMS.length);
    expect(lines).toContain('\toperation: 4');
    expect(lines).toContain('\tmemory_normal_bytes: 179994624');
    expect(lines.at(-1)).toBe('\tdisk_remaining: 0');
    const j = domainEventJson(completed);
    const stats = (j.details as { stats: Record<string, unknown> }).stats;
    expect(Object.keys(stats)).toEqual(COMPLETED_PARAMS.map((p) => p.field));
    expect(stats.time_elapsed).toBe(5582);
    expect(j.details).not.toHaveProperty('params');
  });

  it('prints every payload field of the other events, typed parameters by name', () => {
    const tunable = {
      type: 'tunable',
      domain: ref,
      params: [ul('cputune.vcpu_period', 100000), str('cputune.emulatorpin', '0-1')],
    } as unknown as DomainEvent;
    expect(domainEventText(tunable)).toBe(
      "event 'tunable' for domain 'vm1':\n\tcputune.vcpu_period: 100000\n\tcputune.emulatorpin: 0-1",
    );
    expect(domainEventJson(tunable).details).toEqual({
      params: { 'cputune.vcpu_period': 100000, 'cputune.emulatorpin': '0-1' },
    });
    const threshold = {
      type: 'block_threshold',
      domain: ref,
      dev: 'vda',
      path: '/images/x.qcow2',
      threshold: 1024n,
      excess: 12n,
    } as unknown as DomainEvent;
    expect(domainEventText(threshold)).toBe(
      "event 'block_threshold' for domain 'vm1': dev=vda path=/images/x.qcow2 threshold=1024 excess=12",
    );
  });

  it("stamps lines in virsh's format: local time, milliseconds, UTC offset", () => {
    const d = new Date(2026, 11, 6, 8, 10, 38, 6);
    const off = -d.getTimezoneOffset();
    const zone = `${off >= 0 ? '+' : '-'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}${String(Math.abs(off) % 60).padStart(2, '0')}`;
    expect(virshTimestamp(d)).toBe(`2026-12-06 08:10:38.006${zone}`);
    expect(virshTimestamp(new Date())).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/);
  });
});
