/** A byte count for messages: `512 KiB`, `3.20 GiB`, `1,675 GiB`, `1.64 TiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} bytes`;
  return `${value >= 1000 ? Math.round(value).toLocaleString('en') : value.toPrecision(3)} ${units[unit]}`;
}
