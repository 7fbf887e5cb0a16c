// The server's description of itself, embedded in the page shell (see dashboard/router.py).

function read() {
  const el = document.getElementById("allin-config");
  try {
    return JSON.parse(el ? el.textContent : "{}");
  } catch {
    return {};
  }
}

export const config = Object.freeze({ features: {}, ...read() });

export function hasFeature(name) {
  return Boolean(config.features && config.features[name]);
}
