const UNITS: [string, number][] = [
  ['MB', 1024 * 1024],
  ['kB', 1024],
];

/** Byte counts as people read them: 1023 B, 1.5 kB, 5.0 MB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Part of a whole in the whole's unit: "12.3 of 27.0 MB", "0.2 of 513.0 kB", "12 of 806 B". */
export function formatBytesOf(part: number, whole: number): string {
  const [unit, size] = UNITS.find(([, s]) => whole >= s) ?? ['B', 1];
  if (size === 1) return `${part} of ${whole} B`;
  return `${(part / size).toFixed(1)} of ${(whole / size).toFixed(1)} ${unit}`;
}
