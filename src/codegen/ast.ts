/** Syntax tree of the XDR language (RFC 4506) as libvirt's .x files use it. */

/** A constant or size: a literal, or the name of a `const` / enum member. */
export type Value = { readonly num: number } | { readonly ref: string };

export type Primitive =
  | 'int'
  | 'uint'
  | 'hyper'
  | 'uhyper'
  | 'float'
  | 'double'
  | 'bool'
  | 'opaque'
  | 'string'
  | 'void';

export type TypeSpec =
  | { readonly kind: 'prim'; readonly prim: Primitive; readonly spelled: string }
  | { readonly kind: 'named'; readonly name: string };

/**
 * One declaration: a struct member, union arm or typedef. `form` says how the
 * base type is repeated: once, a fixed array `[size]`, a variable array
 * `<size>` (size null = unbounded) or optional data `*`.
 */
export interface Declaration {
  readonly name: string;
  readonly type: TypeSpec;
  readonly form: 'single' | 'fixed' | 'var' | 'optional';
  readonly size: Value | null;
}

export interface ConstDef {
  readonly kind: 'const';
  readonly name: string;
  readonly value: Value;
}

export interface TypedefDef {
  readonly kind: 'typedef';
  readonly name: string;
  readonly decl: Declaration;
}

export interface EnumDef {
  readonly kind: 'enum';
  readonly name: string;
  readonly members: ReadonlyArray<{ readonly name: string; readonly value: Value }>;
}

export interface StructDef {
  readonly kind: 'struct';
  readonly name: string;
  readonly fields: readonly Declaration[];
}

export interface UnionArm {
  /** Case labels; empty for the default arm. */
  readonly cases: readonly Value[];
  readonly decl: Declaration;
}

export interface UnionDef {
  readonly kind: 'union';
  readonly name: string;
  readonly discriminant: Declaration;
  readonly arms: readonly UnionArm[];
  readonly defaultArm: Declaration | null;
}

export type Definition = ConstDef | TypedefDef | EnumDef | StructDef | UnionDef;

export interface Spec {
  readonly file: string;
  readonly definitions: readonly Definition[];
}
