/**
 * Scores keyed by trial id, kept sorted so that "the k-th best" and "the median" cost O(log n) to find
 * and O(n) (a memmove) to update. Recording a trial again replaces its score.
 */
export class ScoreTable {
  private readonly byTrial = new Map<string, number>();
  /** Ascending. */
  private readonly sorted: number[] = [];

  get size(): number {
    return this.sorted.length;
  }

  has(trialId: string): boolean {
    return this.byTrial.has(trialId);
  }

  record(trialId: string, score: number): void {
    const old = this.byTrial.get(trialId);
    if (old !== undefined) {
      if (Object.is(old, score)) return;
      this.sorted.splice(this.lowerBound(old), 1);
    }
    this.byTrial.set(trialId, score);
    this.sorted.splice(this.lowerBound(score), 0, score);
  }

  /** The k-th best score (k = 1: the best). */
  kthBest(k: number): number {
    return this.sorted[this.sorted.length - k];
  }

  /** The median score (the mean of the two middle ones for an even count); NaN when empty. */
  median(): number {
    const n = this.sorted.length;
    if (n === 0) return NaN;
    const mid = n >> 1;
    if (n % 2 === 1) return this.sorted[mid];
    const [a, b] = [this.sorted[mid - 1], this.sorted[mid]];
    // -Infinity scores (diverged trials) must not turn the mean into NaN.
    return a === b ? a : (a + b) / 2;
  }

  private lowerBound(score: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid] < score) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
