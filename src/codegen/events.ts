import { GENERATOR_VERSION } from './emit.js';
import type { Protocol } from './load.js';
import { camelCase, pascalCase } from './names.js';

/** One family of callback events: how its IDs are named and which procedures carry them. */
interface Family {
  readonly id: string;
  /** The C enum of event IDs in api.json and the prefix of its members. */
  readonly idEnum: string;
  readonly idPrefix: string;
  /** Procedure name prefixes, tried in order: the callback variant first. */
  readonly procPrefixes: readonly string[];
  readonly register: string;
  readonly deregister: string;
}

const FAMILIES: readonly Family[] = [
  {
    id: 'domain',
    idEnum: 'virDomainEventID',
    idPrefix: 'VIR_DOMAIN_EVENT_ID_',
    procPrefixes: ['DOMAIN_EVENT_CALLBACK_', 'DOMAIN_EVENT_'],
    register: 'CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY',
    deregister: 'CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY',
  },
  {
    id: 'network',
    idEnum: 'virNetworkEventID',
    idPrefix: 'VIR_NETWORK_EVENT_ID_',
    procPrefixes: ['NETWORK_EVENT_CALLBACK_', 'NETWORK_EVENT_'],
    register: 'CONNECT_NETWORK_EVENT_REGISTER_ANY',
    deregister: 'CONNECT_NETWORK_EVENT_DEREGISTER_ANY',
  },
  {
    id: 'storagePool',
    idEnum: 'virStoragePoolEventID',
    idPrefix: 'VIR_STORAGE_POOL_EVENT_ID_',
    procPrefixes: ['STORAGE_POOL_EVENT_'],
    register: 'CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY',
    deregister: 'CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY',
  },
  {
    id: 'nodeDevice',
    idEnum: 'virNodeDeviceEventID',
    idPrefix: 'VIR_NODE_DEVICE_EVENT_ID_',
    procPrefixes: ['NODE_DEVICE_EVENT_'],
    register: 'CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY',
    deregister: 'CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY',
  },
  {
    id: 'secret',
    idEnum: 'virSecretEventID',
    idPrefix: 'VIR_SECRET_EVENT_ID_',
    procPrefixes: ['SECRET_EVENT_'],
    register: 'CONNECT_SECRET_EVENT_REGISTER_ANY',
    deregister: 'CONNECT_SECRET_EVENT_DEREGISTER_ANY',
  },
];

/**
 * Names every event object carries beside its payload fields: the
 * discriminant `type` (the event's name) and, for domain events, `domain`.
 * A payload field with one of these names would overwrite it at run time and
 * make the event's TypeScript type `never`.
 */
const RESERVED = ['type', 'domain'] as const;

/**
 * Payload fields renamed because their wire name is reserved, keyed
 * `family.event.field`. The new names follow the C callbacks' parameters
 * (virConnectDomainEventBlockJobCallback's `type` is a virDomainBlockJobType,
 * the metadata callbacks' `type` a vir*MetadataType). A new libvirt event with
 * a colliding field stops the generator until it gets an entry here.
 */
const RENAMES: Readonly<Record<string, string>> = {
  'domain.block_job.type': 'jobType',
  'domain.block_job_2.type': 'jobType',
  'domain.metadata_change.type': 'metadataType',
  'network.metadata_change.type': 'metadataType',
};

/** One public field of an event: its name and where it sits in the wire payload. */
export interface EventField {
  readonly name: string;
  readonly path: readonly string[];
}

/**
 * The fields an event object carries, in wire order: the payload without
 * `callbackID`, with the nested legacy message (`msg`) flattened beside the
 * fields that travel outside it (the pm events' `reason`), renamed by
 * {@link RENAMES}. Throws on a reserved or duplicate name.
 */
export function eventFields(
  proto: Protocol,
  family: string,
  event: string,
  struct: string,
): EventField[] {
  const fieldsOf = (name: string) => {
    const d = proto.symbols.lookup(name).def;
    if (d.kind !== 'struct') throw new Error(`${name} is not a struct`);
    return d.fields;
  };
  const out: EventField[] = [];
  for (const f of fieldsOf(struct)) {
    if (f.name === 'callbackID') continue;
    if (f.name === 'msg' && f.type.kind === 'named') {
      for (const g of fieldsOf(f.type.name)) out.push({ name: g.name, path: ['msg', g.name] });
    } else out.push({ name: f.name, path: [f.name] });
  }
  const seen = new Set<string>();
  return out.map(({ name, path }) => {
    const wire = camelCase(name);
    const key = `${family}.${event}.${wire}`;
    const renamed = RENAMES[key] ?? wire;
    if ((RESERVED as readonly string[]).includes(renamed))
      throw new Error(
        `${struct}: field ${wire} collides with the event object's ${renamed}; add a name for ${key} to RENAMES in src/codegen/events.ts`,
      );
    if (seen.has(renamed)) throw new Error(`${struct}: two fields named ${renamed}`);
    seen.add(renamed);
    return { name: renamed, path: path.map(camelCase) };
  });
}

/**
 * Emits src/generated/events.ts: for every event family, each event's name,
 * ID, the MESSAGE procedure that carries it (the variant whose payload names
 * the callback), its payload codec and `flatten`, which turns a decoded
 * payload into the event's own fields ({@link eventFields}); plus the payload
 * and field types by name. Built
 * from the C API's event-ID enums and the remote program's procedures, so a
 * new libvirt event appears here by regenerating.
 */
export function emitEvents(proto: Protocol): string {
  const remote = proto.modules.find((m) => m.id === 'remote');
  if (!remote) throw new Error('no remote module');
  const procEnum = remote.spec.definitions.find(
    (d) => d.kind === 'enum' && d.name === 'remote_procedure',
  );
  if (procEnum?.kind !== 'enum') throw new Error('no remote_procedure enum');
  const procs = new Map(
    procEnum.members.map((m) => [
      m.name.replace(/^REMOTE_PROC_/, ''),
      proto.symbols.resolve(m.value),
    ]),
  );
  const hasCallbackId = (struct: string): boolean => {
    const d = proto.symbols.has(struct) ? proto.symbols.lookup(struct).def : null;
    return d?.kind === 'struct' && d.fields[0]?.name === 'callbackID';
  };

  const imports = new Set<string>();
  const out: string[] = [];
  for (const f of FAMILIES) {
    const ids = proto.api.enums[f.idEnum];
    if (!ids) throw new Error(`api.json has no enum ${f.idEnum}`);
    const rows: string[] = [];
    const types: string[] = [];
    const fieldTypes: string[] = [];
    for (const [member, id] of Object.entries(ids.members)) {
      const suffix = member.slice(f.idPrefix.length);
      const name = suffix.toLowerCase();
      const proc = f.procPrefixes
        .map((p) => `${p}${suffix}`)
        .find((p) => procs.has(p) && hasCallbackId(`remote_${p.toLowerCase()}_msg`));
      if (!proc)
        throw new Error(
          `${member}: no event procedure with a callbackID among ${f.procPrefixes.join(', ')}`,
        );
      const struct = `remote_${proc.toLowerCase()}_msg`;
      const T = pascalCase(struct);
      imports.add(`type ${T}`).add(`encode${T}`).add(`decode${T}`);
      const fields = eventFields(proto, f.id, name, struct);
      const F = pascalCase(f.id);
      const access = (root: string, path: readonly string[]) =>
        root + path.map((p) => `.${p}`).join('');
      const flatten = fields.map((x) => `${x.name}: ${access('p', x.path)}`).join(', ');
      rows.push(
        `  ${name}: { id: ${id}, procedure: ${procs.get(proc)}, procedureName: '${proc}', payload: { name: '${struct}', encode: encode${T}, decode: decode${T} } satisfies Codec<${T}>, flatten: (p: ${T}): ${F}EventFields['${name}'] => ({ ${flatten} }) },`,
      );
      types.push(`  ${name}: ${T};`);
      const fieldType = fields
        .map((x) => `readonly ${x.name}: ${T}${x.path.map((p) => `['${p}']`).join('')}`)
        .join('; ');
      fieldTypes.push(`  ${name}: { ${fieldType} };`);
    }
    const F = pascalCase(f.id);
    out.push(
      `/** ${F} events (C \`${f.idEnum}\`): ID, carrying procedure and payload codec, by name. */`,
    );
    out.push(`export const ${f.id}Events = {`, ...rows, '} as const;', '');
    out.push(`/** Payload of each ${f.id} event, by name. */`);
    out.push(`export interface ${F}EventPayloads {`, ...types, '}', '');
    out.push(
      `/** Fields of each ${f.id} event: the payload flattened, without callbackID, never named \`${RESERVED.join('` or `')}\`. */`,
    );
    out.push(`export interface ${F}EventFields {`, ...fieldTypes, '}', '');
    out.push(`/** Registration procedures of the ${f.id} event family. */`);
    out.push(
      `export const ${f.id}EventRegistration = { register: ${procs.get(f.register)}, deregister: ${procs.get(f.deregister)} } as const;`,
      '',
    );
  }
  const head = [
    `// Code generated by virtwire's generator v${GENERATOR_VERSION} (src/codegen) from protocol/remote.x and protocol/api.json`,
    `// (libvirt ${proto.version}). DO NOT EDIT: run \`npm run generate\`.`,
    '',
    "import type { Codec } from '../xdr/index.js';",
    `import { ${[...imports].sort((a, b) => (a.replace(/^type /, '') < b.replace(/^type /, '') ? -1 : 1)).join(', ')} } from './remote.js';`,
    '',
  ];
  return `${[...head, ...out].join('\n').trimEnd()}\n`;
}

/**
 * Emits src/generated/event-names.ts: each family's event names and nothing
 * else, for what must not load the codecs (the CLI's --help lists them).
 */
export function emitEventNames(proto: Protocol): string {
  const out = [
    `// Code generated by virtwire's generator v${GENERATOR_VERSION} (src/codegen) from protocol/api.json`,
    `// (libvirt ${proto.version}). DO NOT EDIT: run \`npm run generate\`.`,
    '',
  ];
  for (const f of FAMILIES) {
    const ids = proto.api.enums[f.idEnum];
    if (!ids) throw new Error(`api.json has no enum ${f.idEnum}`);
    const names = Object.keys(ids.members).map(
      (m) => `'${m.slice(f.idPrefix.length).toLowerCase()}'`,
    );
    out.push(
      `/** ${pascalCase(f.id)} event names (C \`${f.idEnum}\`), in ID order, as in \`${f.id}Events\`. */`,
      `export const ${f.id}EventNames = [${names.join(', ')}] as const;`,
      '',
    );
  }
  return `${out.join('\n').trimEnd()}\n`;
}
