// Numbers, times and durations for people.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" });

export function num(value) {
  return integer.format(Number(value) || 0);
}

export function short(value) {
  const n = Number(value) || 0;
  return Math.abs(n) < 10_000 ? integer.format(n) : compact.format(n);
}

export function usd(value) {
  return money.format(Number(value) || 0);
}

export function duration(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export function clock(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString(undefined, { hour12: false });
}

export function dateTime(value) {
  if (value === null || value === undefined || value === "") return "—";
  // ISO strings, or epoch seconds / milliseconds (EulerStream's reset_at).
  const date = new Date(typeof value === "number" && value < 1e12 ? value * 1000 : value);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function relative(iso) {
  if (!iso) return "never";
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  const units = [
    [60, "second"],
    [60, "minute"],
    [24, "hour"],
    [30, "day"],
    [12, "month"],
  ];
  let value = seconds;
  for (const [size, unit] of units) {
    if (Math.abs(value) < size) {
      return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(-Math.round(value), unit);
    }
    value /= size;
  }
  return new Intl.RelativeTimeFormat(undefined).format(-Math.round(value), "year");
}

export function handle(event) {
  if (event.unique_id) return `@${event.unique_id}`;
  if (event.nickname) return event.nickname;
  return event.user_id ? `user ${event.user_id}` : "someone";
}

// "expires in 1 h 59 min", "expired 3 min ago": a token's remaining life for people.
export function countdown(deadline) {
  const seconds = Math.round((deadline - Date.now()) / 1000);
  const span = spell(Math.abs(seconds));
  return seconds >= 0 ? `expires in ${span}` : `expired ${span} ago`;
}

function spell(seconds) {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days) return hours ? `${days} d ${hours} h` : `${days} d`;
  if (hours) return `${hours} h ${minutes} min`;
  if (minutes) return `${minutes} min`;
  return `${seconds} s`;
}
