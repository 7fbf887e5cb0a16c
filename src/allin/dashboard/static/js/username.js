// TikTok username normalisation, the same rules as the API (allin.live.schemas):
// "@Name", "name", " name " and "https://www.tiktok.com/@name/live" all mean "name";
// a handle is 2-24 of a-z, 0-9, "_" and ".".

const PROFILE_URL = /^(?:https?:\/\/)?(?:www\.|m\.)?tiktok\.com\/@([^/?#]+)/i;
const HANDLE = /^[A-Za-z0-9_.]{2,24}$/; // ASCII only: "K" (Kelvin) is no "k"
// Only spaces and tabs around the input are forgiven, as the API's pattern says; any other
// control character anywhere refuses it.
const CONTROL = /[\x00-\x1f\x7f]/;

function stripBlanks(value) {
  return value.replace(/^[ \t]+|[ \t]+$/g, "");
}

// Returns {ok: true, username} or {ok: false, error}.
export function normaliseUsername(input) {
  let value = stripBlanks(String(input ?? ""));
  if (!value) return { ok: false, error: "Enter a TikTok username or LIVE link" };
  if (CONTROL.test(value)) return { ok: false, error: "Remove the control characters" };
  const match = PROFILE_URL.exec(value);
  if (match) value = match[1];
  if (value.startsWith("@")) value = value.slice(1);
  if (!HANDLE.test(value)) {
    return { ok: false, error: "A TikTok username has 2–24 letters, digits, “_” or “.”" };
  }
  return { ok: true, username: value.toLowerCase() };
}
