// TikTok username normalisation, the same rules as the API (allin.live.schemas):
// "@Name", "name", " name " and "https://www.tiktok.com/@name/live" all mean "name";
// a handle is 2-24 of a-z, 0-9, "_" and ".".

const PROFILE_URL = /^(?:https?:\/\/)?(?:www\.|m\.)?tiktok\.com\/@([^/?#]+)/i;
const HANDLE = /^[a-z0-9_.]{2,24}$/;
// The characters Python's str.strip() removes (JavaScript's trim() differs on a few).
const PY_SPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

function pyStrip(value) {
  let start = 0;
  let end = value.length;
  while (start < end && PY_SPACE.includes(value[start])) start += 1;
  while (end > start && PY_SPACE.includes(value[end - 1])) end -= 1;
  return value.slice(start, end);
}

// Returns {ok: true, username} or {ok: false, error}.
export function normaliseUsername(input) {
  let value = pyStrip(String(input ?? ""));
  if (!value) return { ok: false, error: "Enter a TikTok username or LIVE link" };
  const match = PROFILE_URL.exec(value);
  if (match) value = match[1];
  if (value.startsWith("@")) value = value.slice(1);
  value = value.toLowerCase();
  if (!HANDLE.test(value)) {
    return { ok: false, error: "A TikTok username has 2–24 letters, digits, “_” or “.”" };
  }
  return { ok: true, username: value };
}
