// TikTok-Live-Connector as a judge: connects to one streamer through an EulerStream-compatible
// sign server and prints one JSON line per received event, in AllIN's event vocabulary.
// Usage: node judge.mjs <username> <sign base URL> <web host:port> <webcast host:port> <seconds>
// Prints READY once loaded, then connects when a line arrives on stdin.
// Only base URLs are changed; the library is used as published.
import { SignConfig, TikTokLiveConnection } from 'tiktok-live-connector';

const [username, signUrl, webHost, webcastHost, seconds] = process.argv.slice(2);
SignConfig.basePath = signUrl;

const TYPES = {
  WebcastChatMessage: 'chat',
  WebcastGiftMessage: 'gift',
  WebcastLikeMessage: 'like',
  WebcastMemberMessage: 'join',
  WebcastRoomUserSeqMessage: 'room_user',
  WebcastControlMessage: 'control',
  WebcastSubNotifyMessage: 'subscribe',
  WebcastQuestionNewMessage: 'question',
  WebcastEmoteChatMessage: 'emote_chat',
  WebcastEnvelopeMessage: 'envelope',
};

// The library's own rule for splitting social messages (processDecodedData).
function socialType(data) {
  const key = data.common?.displayText?.key ?? '';
  if (key.includes('follow')) return 'follow';
  if (key.includes('share')) return 'share';
  return 'social';
}

function fields(type, d) {
  switch (type) {
    case 'chat': return { content: d.content };
    case 'gift': return { gift_id: Number(d.giftId), repeat_count: Number(d.repeatCount), repeat_end: Boolean(d.repeatEnd) };
    case 'like': return { count: Number(d.count), total: Number(d.total) };
    case 'join': return { member_count: Number(d.memberCount) };
    case 'follow': return { follow_count: Number(d.followCount) };
    case 'share': return { share_count: Number(d.shareCount) };
    case 'room_user': return { viewer_count: Number(d.total) };
    case 'control': return { code: Number(d.action) };
    case 'subscribe': return { sub_month: Number(d.subMonth) };
    case 'question': return { question_id: String(d.data?.questionId), content: d.data?.content };
    case 'emote_chat': return { emote_ids: (d.emoteList ?? []).map((e) => e.emoteId) };
    case 'unknown': return { method: d.common?.method };
    case 'envelope': return { envelope_id: d.envelopeInfo?.envelopeId, diamond_count: Number(d.envelopeInfo?.diamondCount) };
    default: return {};
  }
}

// A question's asker sits inside the question; an envelope names its sender by id only.
const userOf = (type, d) => (type === 'question' ? d.data?.user : d.user);

function line(method, d) {
  const type = method === 'WebcastSocialMessage' ? socialType(d) : TYPES[method] ?? 'unknown';
  const user = userOf(type, d) ?? null;
  return JSON.stringify({
    type,
    msg_id: String(d.common?.msgId ?? ''),
    user: user ? { unique_id: user.uniqueId ?? '', display_id: user.displayId ?? '' } : null,
    ...fields(type, d),
  });
}

const connection = new TikTokLiveConnection(username, {
  webConfigOverrides: { TIKTOK_HOST_WEB: webHost, TIKTOK_HOST_WEBCAST: webcastHost },
  enableExtendedGiftInfo: false,
});
connection.on('decodedData', (method, decoded) => {
  process.stdout.write(line(method, decoded.data ?? decoded) + '\n');
});
const done = (code) => { process.exitCode = code; setImmediate(() => process.exit(code)); };
connection.on('disconnected', () => done(0));
const timer = setTimeout(() => { process.stderr.write('judge: time limit\n'); done(3); }, Number(seconds) * 1000);
timer.unref();
process.stdout.write('READY\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.pause();
try {
  await connection.connect();
  process.stderr.write('judge: connected\n');
} catch (err) {
  process.stderr.write(`judge: connect failed: ${err?.stack ?? err}\n`);
  done(2);
}
