import Table from 'cli-table3';

/** A plain (uncoloured, compact) terminal table. */
export function plainTable(head: string[]): InstanceType<typeof Table> {
  return new Table({ head, style: { head: [], border: [], compact: true } });
}
