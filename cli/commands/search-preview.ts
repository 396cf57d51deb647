/** What `hpo search --dry-run` prints beyond `hpo validate`, and the stored file's warnings at resume. */
import { analyseSearchSpace, formatIssue, type SearchSpace } from '../../orchestrator/search-space/index.js';
import { builtinTaskCatalog } from '../builtin-tasks.js';
import { createStrategy } from '../../orchestrator/strategies/index.js';
import type { TrialParams } from '../../shared/protocol/index.js';

/** The strategy's first `n` proposals for a fresh experiment (no results yet), one JSON line each. */
export function dryRunProposals(space: SearchSpace, n: number): string {
  const strategy = createStrategy(space);
  const proposals: string[] = [];
  const params: TrialParams[] = [];
  for (let i = 0; i < n; i++) {
    const next = strategy.next({ proposed: i, seen: params, finished: [] });
    if (!next) break;
    params.push(next);
    proposals.push(`  ${i + 1}: ${JSON.stringify(next)}`);
  }
  const more = proposals.length < n ? ` (the strategy has no more after ${proposals.length})` : '';
  return `first ${proposals.length} proposals${more}:\n${proposals.map((p) => `${p}\n`).join('')}`;
}

/** The stored file's warnings again at resume (nothing when it no longer parses: the space is stored). */
export function resumeWarnings(name: string, source: string): void {
  try {
    const { warnings } = analyseSearchSpace(source, {
      file: `${name} (stored file)`,
      tasks: builtinTaskCatalog(),
    });
    for (const w of warnings)
      process.stderr.write(`hpo: warning: ${formatIssue(`${name} (stored file)`, w)}\n`);
  } catch {
    // The experiment's space was parsed when it was created; a file that no longer parses is not an error here.
  }
}
