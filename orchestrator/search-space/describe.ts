/**
 * The normalised space as text, for `hpo validate` and `hpo search --dry-run`: one line per parameter,
 * a branch's parameters indented under `when NAME = VALUE:`.
 */
import type { ParamValue } from '../../shared/protocol/index.js';
import type { ParamSpec, ParamSpecs, SearchSpace } from './types.js';
import { valueCount } from './values.js';

const show = (v: ParamValue): string => JSON.stringify(v);

/** One spec, e.g. `log_uniform_values [1e-5, 0.01] (from log_uniform)`, `categorical [sgd, adam]`. */
export function describeSpec(spec: ParamSpec): string {
  switch (spec.kind) {
    case 'constant':
      return `constant ${show(spec.value)}`;
    case 'categorical': {
      const p = spec.probabilities ? ` probabilities [${spec.probabilities.join(', ')}]` : '';
      return `categorical [${spec.values.map(show).join(', ')}]${p}`;
    }
    case 'uniform':
    case 'int_uniform':
      return `${spec.kind} [${spec.min}, ${spec.max}]`;
    case 'log_uniform_values':
      return `${spec.kind} [${spec.min}, ${spec.max}]${spec.from ? ` (from ${spec.from})` : ''}`;
    case 'q_uniform':
      return `${spec.kind} [${spec.min}, ${spec.max}] q ${spec.q}`;
    case 'q_log_uniform_values':
      return `${spec.kind} [${spec.min}, ${spec.max}] q ${spec.q}${spec.from ? ` (from ${spec.from})` : ''}`;
    case 'normal':
    case 'log_normal':
      return `${spec.kind} mu ${spec.mu} sigma ${spec.sigma}`;
    case 'q_normal':
    case 'q_log_normal':
      return `${spec.kind} mu ${spec.mu} sigma ${spec.sigma} q ${spec.q}`;
  }
}

function scopeLines(specs: ParamSpecs, indent: string, defaulted: ReadonlySet<string>, out: string[]): void {
  for (const [name, spec] of Object.entries(specs)) {
    const n = valueCount(spec);
    const branched = spec.kind === 'categorical' && spec.branches !== undefined;
    const count =
      spec.kind === 'constant' || n === null
        ? ''
        : `  (${n} ${branched ? 'configurations with its branches' : 'values'})`;
    out.push(
      `${indent}${name}: ${describeSpec(spec)}${count}${defaulted.has(name) ? '  (task default)' : ''}`,
    );
    if (spec.kind !== 'categorical' || !spec.branches) continue;
    spec.branches.forEach((branch, i) => {
      if (!branch) return;
      out.push(`${indent}  when ${name} = ${show(spec.values[i])}:`);
      scopeLines(branch, `${indent}    `, defaulted, out);
    });
  }
}

/** The space's parameters, one per line, branches indented. */
export function describeParameters(space: SearchSpace, indent = '  '): string[] {
  const out: string[] = [];
  scopeLines(space.parameters, indent, new Set(space.defaulted ?? []), out);
  return out;
}
