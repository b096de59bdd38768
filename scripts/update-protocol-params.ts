/**
 * Typed-parameter types stated as data in libvirt's drivers: every
 * `virTypedParamsValidate(params, nparams, NAME, VIR_TYPED_PARAM_X [| VIR_TYPED_PARAM_MULTIPLE], ...)`
 * call names the type a driver accepts for a parameter. Many headers say the type only in prose,
 * and some not at all (VIR_DOMAIN_SAVE_PARAM_FILE, VIR_PERF_PARAM_*); this fills those gaps.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blankComments, byCodeUnit, lexC } from './update-protocol-c.js';

export interface ValidatedType {
  /** Every type some driver validates the parameter as (usually exactly one). */
  readonly types: ReadonlySet<string>;
  readonly multiple: boolean;
}

function cFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...cFiles(p));
    else if (e.name.endsWith('.c')) out.push(p);
  }
  return out.sort(byCodeUnit);
}

/** Parameter constant -> the types drivers validate it as, over all of src/. */
export function validatedParamTypes(srcDir: string): Map<string, ValidatedType> {
  const found = new Map<string, { types: Set<string>; multiple: boolean }>();
  for (const file of cFiles(join(srcDir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('virTypedParamsValidate(')) continue;
    const code = blankComments(text, lexC(text, false));
    for (const call of code.matchAll(/\bvirTypedParamsValidate\(([\s\S]*?)\bNULL\s*\)/g)) {
      const pairs = call[1]!.matchAll(
        /\b(VIR_[A-Z0-9_]+)\s*,\s*VIR_TYPED_PARAM_([A-Z]+)\b(\s*\|\s*VIR_TYPED_PARAM_MULTIPLE\b)?/g,
      );
      for (const [, name, type, multiple] of pairs) {
        const f = found.get(name!) ?? { types: new Set<string>(), multiple: false };
        f.types.add(type!.toLowerCase());
        if (multiple !== undefined) f.multiple = true;
        found.set(name!, f);
      }
    }
  }
  return found;
}
