// Numbers and times as people read them, in the UI's language. Every date or time the UI shows
// goes through here, so that the zh-TW UI never shows an en-US "1:19:00 PM".

/** A date and time in `lang`'s own format; the raw text when it is not a date. */
export function formatDateTime(iso: string, lang: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(lang);
}

/** A time of day in `lang`'s own format (the live log, "loaded at"). */
export function formatClock(at: string | Date, lang: string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  return Number.isNaN(d.getTime()) ? String(at) : d.toLocaleTimeString(lang);
}

/**
 * A measured amount: seconds to one decimal below a minute and as m:ss.s above it; counts as
 * whole numbers. Never the float's raw digits ("136.17000000000002").
 */
export function formatAmount(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '—';
  if (unit === 's') {
    if (value < 60) return value.toFixed(1);
    const minutes = Math.floor(value / 60);
    const seconds = (value - minutes * 60).toFixed(1).padStart(4, '0');
    return `${minutes}:${seconds}`;
  }
  return String(Math.round(value));
}

/** A size in bytes in binary units: "512 B", "1.5 KB", "3.2 GB". */
export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
