// Each platform's text limits as documented by the platform, for counters while typing. They
// only guide the writer: the server's verdict (its providers' rules, with the operator's caps)
// replaces them as soon as it arrives, and is checked again before anything is published.

const LIMITS = {
  tiktok: { max: 2200, utf16: true }, // title, in UTF-16 units as JavaScript counts strings
  instagram: { max: 2200, hashtags: 30 },
  x: { max: 280, weighted: true },
  linkedin: { max: 3000 },
  facebook: { max: 63206 },
};

const URL = /https?:\/\/\S+/g;
const HASHTAG = /(^|\s)#[\p{L}\p{N}_]+/gu;

// X counts a link as 23 and CJK, emoji and most other scripts as 2 (twitter-text v3 weights).
function weighted(text) {
  let length = 0;
  const rest = text.replace(URL, () => {
    length += 23;
    return "";
  });
  for (const char of rest) {
    const code = char.codePointAt(0);
    const light = code <= 0x10ff || (code >= 0x2000 && code <= 0x200d) || (code >= 0x2010 && code <= 0x201f) || (code >= 0x2032 && code <= 0x2037);
    length += light ? 1 : 2;
  }
  return length;
}

export function checkText(platform, text) {
  const rules = LIMITS[platform] || { max: 2200 };
  const length = rules.weighted ? weighted(text) : rules.utf16 ? text.length : [...text].length;
  const problems = [];
  if (length > rules.max) problems.push(`${length - rules.max} over the limit`);
  const hashtags = (text.match(HASHTAG) || []).length;
  if (rules.hashtags && hashtags > rules.hashtags) problems.push(`${hashtags} hashtags; at most ${rules.hashtags}`);
  return { length, max: rules.max, problems };
}
