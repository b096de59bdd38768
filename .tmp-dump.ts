import { readFileSync, writeFileSync } from 'node:fs';
import { loadProtocol, PROGRAMS } from './src/codegen/load.js';
import { printDecl } from './src/codegen/emit.js';
const proto = loadProtocol('protocol');
const facts = JSON.parse(readFileSync('protocol/functions.json', 'utf8'));
const out: string[] = [];
for (const [name, f] of Object.entries<any>(facts.functions)) {
  const c = f.carrier;
  if (c.via !== 'procedure') continue;
  const prog = c.program;
  const base = c.procedure.slice(`${prog.toUpperCase()}_PROC_`.length).toLowerCase();
  const fields = (suffix: string) => {
    const n = `${prog}_${base}_${suffix}`;
    if (!proto.symbols.has(n)) return '-';
    const d = proto.symbols.lookup(n).def;
    return d.kind === 'struct' ? d.fields.map(printDecl).join('; ') : d.kind;
  };
  out.push(`${name}: ${f.returns} (${f.args.map((a: any) => `${a.type} ${a.name}${a.dir ? '' : '?'}`).join(', ')})`);
  out.push(`    args: ${fields('args')}`);
  out.push(`    ret:  ${fields('ret')}`);
}
writeFileSync('/tmp/apifacts-src/dump.txt', out.join('\n'));
