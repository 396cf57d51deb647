/**
 * A small regression random forest (bagged CART trees, a random subset of features tried at each split)
 * with out-of-bag permutation importance: for each tree, how much its error on the samples it did not
 * see grows when one feature's values are shuffled among those samples (Breiman 2001). Pure and seeded.
 */
import { Prng } from '../shared/prng.js';

export interface ForestOptions {
  trees?: number;
  maxDepth?: number;
  minLeaf?: number;
  /** Features tried at each split (default ceil(features / 2)). */
  featuresPerSplit?: number;
  seed?: number;
}

type Node =
  | { leaf: true; value: number }
  | { leaf: false; feature: number; threshold: number; left: Node; right: Node };

function mean(ys: readonly number[], idx: readonly number[]): number {
  let s = 0;
  for (const i of idx) s += ys[i];
  return s / idx.length;
}

/** The split of `idx` on `feature` with the lowest summed squared error, or null when none separates. */
function bestSplit(
  xs: readonly number[][],
  ys: readonly number[],
  idx: readonly number[],
  feature: number,
  minLeaf: number,
): { threshold: number; sse: number } | null {
  const sorted = [...idx].sort((a, b) => xs[a][feature] - xs[b][feature]);
  const n = sorted.length;
  let totalSum = 0;
  let totalSq = 0;
  for (const i of sorted) {
    totalSum += ys[i];
    totalSq += ys[i] * ys[i];
  }
  let leftSum = 0;
  let leftSq = 0;
  let best: { threshold: number; sse: number } | null = null;
  for (let k = 0; k < n - 1; k++) {
    const y = ys[sorted[k]];
    leftSum += y;
    leftSq += y * y;
    const nl = k + 1;
    const nr = n - nl;
    if (nl < minLeaf || nr < minLeaf) continue;
    const a = xs[sorted[k]][feature];
    const b = xs[sorted[k + 1]][feature];
    if (a === b) continue;
    const sse = leftSq - (leftSum * leftSum) / nl + (totalSq - leftSq) - (totalSum - leftSum) ** 2 / nr;
    if (!best || sse < best.sse) best = { threshold: (a + b) / 2, sse };
  }
  return best;
}

function grow(
  xs: readonly number[][],
  ys: readonly number[],
  idx: number[],
  depth: number,
  options: Required<ForestOptions>,
  prng: Prng,
): Node {
  const value = mean(ys, idx);
  if (depth >= options.maxDepth || idx.length < 2 * options.minLeaf) return { leaf: true, value };
  const features = prng.shuffle(xs[0].map((_, j) => j)).slice(0, options.featuresPerSplit);
  let best: { feature: number; threshold: number; sse: number } | null = null;
  for (const f of features) {
    const s = bestSplit(xs, ys, idx, f, options.minLeaf);
    if (s && (!best || s.sse < best.sse)) best = { feature: f, ...s };
  }
  if (!best) return { leaf: true, value };
  const left = idx.filter((i) => xs[i][best.feature] <= best.threshold);
  const right = idx.filter((i) => xs[i][best.feature] > best.threshold);
  return {
    leaf: false,
    feature: best.feature,
    threshold: best.threshold,
    left: grow(xs, ys, left, depth + 1, options, prng),
    right: grow(xs, ys, right, depth + 1, options, prng),
  };
}

function predict(node: Node, x: readonly number[]): number {
  while (!node.leaf) node = x[node.feature] <= node.threshold ? node.left : node.right;
  return node.value;
}

/**
 * Fits a forest on rows `xs` (features) and targets `ys`, and returns each feature's out-of-bag
 * permutation importance: the mean increase of squared error, never below 0. Needs at least 2 rows.
 */
export function permutationImportance(
  xs: readonly number[][],
  ys: readonly number[],
  options: ForestOptions = {},
): number[] {
  const p = xs[0]?.length ?? 0;
  const n = xs.length;
  if (n < 2 || p === 0) return new Array<number>(p).fill(0);
  const opts: Required<ForestOptions> = {
    trees: options.trees ?? 32,
    maxDepth: options.maxDepth ?? 8,
    minLeaf: options.minLeaf ?? 2,
    featuresPerSplit: Math.min(p, options.featuresPerSplit ?? Math.ceil(p / 2)),
    seed: options.seed ?? 1,
  };
  const prng = new Prng(opts.seed);
  const increase = new Array<number>(p).fill(0);
  let counted = 0;
  for (let t = 0; t < opts.trees; t++) {
    const inBag = new Uint8Array(n);
    const sample: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = prng.below(n);
      inBag[i] = 1;
      sample.push(i);
    }
    const oob: number[] = [];
    for (let i = 0; i < n; i++) if (!inBag[i]) oob.push(i);
    if (oob.length < 2) continue;
    const tree = grow(xs, ys, sample, 0, opts, prng);
    const base = oob.reduce((s, i) => s + (predict(tree, xs[i]) - ys[i]) ** 2, 0) / oob.length;
    for (let j = 0; j < p; j++) {
      const shuffled = prng.shuffle(oob.map((i) => xs[i][j]));
      let err = 0;
      oob.forEach((i, k) => {
        const x = [...xs[i]];
        x[j] = shuffled[k];
        err += (predict(tree, x) - ys[i]) ** 2;
      });
      increase[j] += err / oob.length - base;
    }
    counted++;
  }
  return increase.map((d) => (counted === 0 ? 0 : Math.max(0, d / counted)));
}

/** A seeded subsample of `k` of the numbers 0..n-1 (all of them when n <= k), ascending. */
export function subsample(n: number, k: number, seed = 1): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= k) return all;
  const prng = new Prng(seed);
  return prng
    .shuffle(all)
    .slice(0, k)
    .sort((a, b) => a - b);
}
