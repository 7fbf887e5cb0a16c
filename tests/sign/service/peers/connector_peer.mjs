// Runs tiktok-live-connector (unmodified) against a sign server and the TikTok simulator;
// prints one JSON line per outcome. Environment: CONNECTOR (path of the package's entry),
// SIM_HOST (host:port of the simulator over TLS), SIGN_URL, SIGN_KEY (optional), STREAMER.
const { SignConfig, SignatureRateLimitError, TikTokLiveConnection, WebcastEvent } = await import(
  process.env.CONNECTOR
);

const emit = (fields) => console.log(JSON.stringify(fields));

// The only sign settings a user changes (the integration guide's snippet):
SignConfig.basePath = process.env.SIGN_URL;
const options = {
  webConfigOverrides: {
    TIKTOK_HOST_WEB: process.env.SIM_HOST,
    TIKTOK_HOST_WEBCAST: process.env.SIM_HOST,
    TIKTOK_HTTP_ORIGIN: `https://${process.env.SIM_HOST}`,
  },
};
if (process.env.SIGN_KEY) options.signApiKey = process.env.SIGN_KEY;

const connection = new TikTokLiveConnection(process.env.STREAMER, options);
connection.on('error', () => {}); // reported below, from connect()'s rejection

const commented = new Promise((resolve) => {
  connection.on(WebcastEvent.CHAT, (data) => {
    emit({ event: 'comment', user: data.user?.nickname, comment: data.content });
    resolve();
  });
});

function rateLimitError(err) {
  for (let e = err; e; e = e.exception ?? e.cause) {
    if (e instanceof SignatureRateLimitError) return e;
    if (Array.isArray(e.requestErrs)) return e.requestErrs.find((x) => x instanceof SignatureRateLimitError);
  }
  return undefined;
}

try {
  const state = await connection.connect();
  emit({ event: 'connected', room_id: String(state.roomId) });
} catch (err) {
  const limited = rateLimitError(err);
  if (limited) {
    emit({
      event: 'error',
      type: limited.constructor.name,
      retry_after: limited.retryAfter,
      reset_time: limited.resetTime,
      message: limited.message,
    });
    process.exit(3);
  }
  emit({ event: 'error', type: err?.constructor?.name, message: String(err?.message ?? err) });
  process.exit(4);
}
const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no chat')), 20000));
try {
  await Promise.race([commented, timeout]);
} finally {
  connection.disconnect();
}
process.exit(0);
