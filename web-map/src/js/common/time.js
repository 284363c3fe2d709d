// Instants as the deployment reads them: in its own time zone (the dispatch calendar's offset, which
// `/api/me` gives as `tz_offset_minutes`), not the browser's, so a command centre and a phone set to
// another zone read the same wall-clock times as the case's deadlines were set in. Until the offset
// is known (or when the server does not say it), the browser's own zone is used.

let offsetMinutes = null;

/** Sets the deployment's offset east of UTC, in minutes (from `/api/me`). */
export function setTzOffset(minutes) {
  offsetMinutes = Number.isFinite(minutes) ? minutes : null;
}

/** The deployment's offset east of UTC in minutes, or null when not known. */
export function tzOffset() {
  return offsetMinutes;
}

const pad = (n) => String(n).padStart(2, '0');

/**
 * An ISO instant as `YYYY-MM-DD HH:mm` in the deployment's zone (`—` for none; the text itself when it
 * is no date). With no known offset, the browser's locale format for `lang`.
 */
export function formatInstant(iso, lang) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  if (offsetMinutes === null) return d.toLocaleString(lang);
  // Shift by the offset and read the UTC fields: the wall clock of the deployment's zone.
  const local = new Date(d.getTime() + offsetMinutes * 60_000);
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
}

/** The deployment's wall clock of `iso` as `{y, mo, d, h, mi}` strings, or null (no offset known, or no date). */
function fields(iso) {
  const d = new Date(iso);
  if (offsetMinutes === null || Number.isNaN(d.getTime())) return null;
  const local = new Date(d.getTime() + offsetMinutes * 60_000);
  return {
    mo: pad(local.getUTCMonth() + 1), d: pad(local.getUTCDate()), h: pad(local.getUTCHours()), mi: pad(local.getUTCMinutes()),
  };
}

/** `HH:mm` in the deployment's zone (the browser's locale time with no known offset). */
export function formatClock(iso, lang) {
  const f = fields(iso);
  if (f) return `${f.h}:${f.mi}`;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
}

/** `MM-DD HH:mm` in the deployment's zone (the browser's locale with no known offset). */
export function formatShort(iso, lang) {
  const f = fields(iso);
  if (f) return `${f.mo}-${f.d} ${f.h}:${f.mi}`;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString(lang, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}
