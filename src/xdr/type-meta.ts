/**
 * A runtime description of XDR types, generated from the .x files
 * (src/generated/xdr-types.ts) for tools that need to know a type's shape
 * without encoding: `virtwire call --describe` and its argument checks. The
 * codecs themselves do not use it. Field names are the TypeScript ones the
 * codecs read (camelCase); bounds are resolved numbers, null when unbounded.
 */

/** A primitive, a reference to a named definition (`#name`), or a built type. */
export type XdrTypeMeta =
  | 'int'
  | 'uint'
  | 'hyper'
  | 'uhyper'
  | 'float'
  | 'double'
  | 'bool'
  | `#${string}`
  /** `string<max>` */
  | readonly ['string', number | null]
  /** `opaque<max>` */
  | readonly ['opaque', number | null]
  /** `opaque[size]` */
  | readonly ['opaque[]', number]
  /** `T<max>` */
  | readonly ['array', XdrTypeMeta, number | null]
  /** `T[size]` */
  | readonly ['array[]', XdrTypeMeta, number]
  /** `T *`: the value or null. */
  | readonly ['optional', XdrTypeMeta];

/** One arm of a union: its case values, and its field (null for a void arm). */
export type XdrUnionArmMeta = readonly [
  cases: readonly number[],
  field: readonly [name: string, type: XdrTypeMeta] | null,
];

/** A named definition of the .x files. */
export type XdrDefMeta =
  | readonly ['struct', ReadonlyArray<readonly [name: string, type: XdrTypeMeta]>]
  | readonly [
      'union',
      discriminant: readonly [name: string, type: XdrTypeMeta],
      arms: readonly XdrUnionArmMeta[],
      /** The default arm: undefined when there is none, null field when it is void. */
      defaultArm: readonly [name: string, type: XdrTypeMeta] | null | undefined,
    ]
  | readonly ['enum', ReadonlyArray<readonly [name: string, value: number]>]
  | readonly ['typedef', XdrTypeMeta];

/** Every named definition, by its XDR name (e.g. `remote_nonnull_domain`). */
export type XdrTypeTable = Readonly<Record<string, XdrDefMeta>>;
