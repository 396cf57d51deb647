/** The error a search-space file with mistakes raises: every problem found, each with its path. */
import { UsageError } from '../../shared/errors.js';

/** One problem in a search-space file. */
export interface SearchSpaceIssue {
  /** Where: `parameters.learning_rate.min`, `parameters.arch.values[1]`; '' for the whole file. */
  path: string;
  /** What was expected, e.g. `expected a number > 0, got -1`. */
  message: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

/** Formats one issue as `file:line: path: message`. */
export function formatIssue(file: string, issue: SearchSpaceIssue): string {
  let where = file;
  if (issue.line !== undefined) where += `:${issue.line}`;
  if (issue.line !== undefined && issue.column !== undefined) where += `:${issue.column}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/**
 * A search-space file with one or more mistakes. The message lists them all, one per line, each prefixed
 * with the file name (and line when known); `issues` has them as data.
 */
export class SearchSpaceError extends UsageError {
  constructor(
    readonly file: string,
    readonly issues: readonly SearchSpaceIssue[],
  ) {
    super(issues.map((issue) => formatIssue(file, issue)).join('\n'));
  }
}
