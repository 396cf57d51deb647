/**
 * A search-space file's YAML: its syntax (every error as one SearchSpaceError with lines), its data
 * (aliases bounded, not empty, not nested too deeply), and where a path points in the text, so that every
 * issue found later can name its line (IssueLog).
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { SearchSpaceError, type SearchSpaceIssue } from '../../shared/errors.js';
import { formatPath } from './schema.js';
import type { PathSegment, ReportIssue } from './task-catalog.js';

/** Deepest nesting of mappings / lists anywhere in a file. */
export const MAX_FILE_DEPTH = 64;

/** A file's text parsed as YAML, with the line counter that turns offsets into lines. */
export interface YamlSource {
  file: string;
  doc: Document;
  lineCounter: LineCounter;
}

/** Parses `text`; YAML syntax errors are thrown together (alone: nothing else is checked). */
export function parseYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SearchSpaceError(
      file,
      doc.errors.map((err) => {
        const pos = err.linePos?.[0];
        const what = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
        return {
          path: '',
          message: pos
            ? `invalid YAML at line ${pos.line}, column ${pos.col}: ${what}`
            : `invalid YAML: ${what}`,
          ...(pos ? { line: pos.line, column: pos.col } : {}),
        };
      }),
    );
  }
  return { file, doc, lineCounter };
}

/** Where a path points in the YAML text (its key for map entries), as a 1-based line and column. */
function locate(
  { doc, lineCounter }: YamlSource,
  path: readonly PathSegment[],
): { line: number; col: number } | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as { range?: number[] } | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      offset = (pair.key as { range?: number[] } | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      offset = (node as { range?: number[] } | null)?.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset);
}

/** The issues (errors) and warnings found in one file, each with the line its path points to. */
export class IssueLog {
  readonly issues: SearchSpaceIssue[] = [];
  private readonly warnings: SearchSpaceIssue[] = [];
  /** Records an error at `path`. */
  readonly report: ReportIssue = (path, message) => this.add(this.issues, path, message);
  /** Records a warning at `path`. */
  readonly warn: ReportIssue = (path, message) => this.add(this.warnings, path, message);

  constructor(private readonly source: YamlSource) {}

  private add(list: SearchSpaceIssue[], path: readonly PathSegment[], message: string): void {
    const pos = locate(this.source, path);
    list.push({ path: formatPath(path), message, ...(pos ? { line: pos.line } : {}) });
  }

  /** Throws every error found so far, in file order (stable for issues at the same line). */
  throwIfAny(): void {
    if (this.issues.length === 0) return;
    const ordered = this.issues.map((issue, i) => ({ issue, i }));
    ordered.sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || a.i - b.i);
    throw new SearchSpaceError(
      this.source.file,
      ordered.map((o) => o.issue),
    );
  }

  /** Throws every error found so far, as found (for a file whose later checks cannot run). */
  throwNow(): never {
    throw new SearchSpaceError(this.source.file, this.issues);
  }

  /** The warnings in file order. */
  sortedWarnings(): SearchSpaceIssue[] {
    return this.warnings.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  }
}

/** How deep mappings / lists nest in `value` (a scalar is 0); stops counting past `limit`. */
function depthOf(value: unknown, limit: number, path: PathSegment[] = []): PathSegment[] | null {
  if (value === null || typeof value !== 'object') return null;
  if (path.length >= limit) return path;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    const deep = depthOf(v, limit, [...path, k]);
    if (deep) return deep;
  }
  return null;
}

/** The file's data as plain JS; throws when it cannot be read (aliases), is empty, or nests too deeply. */
export function yamlData(source: YamlSource, log: IssueLog): unknown {
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new SearchSpaceError(source.file, [
      { path: '', message: `invalid YAML: ${(err as Error).message}` },
    ]);
  }
  if (data === null || data === undefined) {
    throw new SearchSpaceError(source.file, [
      { path: '', message: 'the file is empty; expected a mapping with at least method and parameters' },
    ]);
  }
  const tooDeep = depthOf(data, MAX_FILE_DEPTH);
  if (tooDeep) {
    log.report(tooDeep, `nested too deeply: expected at most ${MAX_FILE_DEPTH} levels, got more`);
    log.throwNow();
  }
  return data;
}
