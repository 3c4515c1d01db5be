// Live simulation for scripts/serve.mjs: turns a VOD HLS playlist or DASH MPD into a live one
// that moves with wall time, looping the VOD content forever. Pure functions (the time is a
// parameter), no dependencies.
//
// The ONE live generator of the repository. The test server (scripts/serve.mjs, for the page
// tests) calls it in-process; the Rust sim tests (core/tests/stream_live.rs) ask it through
// scripts/live-gen.mjs, one Node co-process per test (kinema_testkit::LiveGen) with the time
// passed in. It lives here, in JS, because the server must answer real browsers and ffmpeg
// without a build step, while the Rust tests already need Node (the test command bootstraps
// it): a Rust generator would need a compiled binary before every page test run. Both sides
// call the same dispatch, liveAnswer(), so a path gets the same answer from both.
//
// URL: /__live/<spec>/<path of a VOD .m3u8 or .mpd>, spec = comma-separated key=value (or `-`):
//   start=EPOCH_MS  the live start (default: when the server started)
//   window=S        the sliding window / timeShiftBufferDepth in seconds (default 20)
//   speed=X         the live clock runs X times as fast as wall time (default 1; for tests)
//   end=S           the stream ends when the live clock reaches S seconds: from then on the
//                   HLS playlists keep their last window and get EXT-X-ENDLIST, the MPD turns
//                   static (type="static", mediaPresentationDuration=S, no
//                   minimumUpdatePeriod) and DASH segments past S answer 404
// The spec sits in the path, not the query, so relative segment URIs resolve under it.
//
// HLS (media playlist): the k-th segment of the endless sequence (k from 0; VOD segment k mod N,
// loop floor(k/N)) is listed once its end, loop*D + end of VOD segment, has passed on the live
// clock ((now - start) * speed); the playlist holds the newest segments that fit in `window`
// (at least one; none before the first segment has ended), EXT-X-MEDIA-SEQUENCE is the first
// one's k, EXT-X-DISCONTINUITY-SEQUENCE its loop, EXT-X-DISCONTINUITY (and the EXT-X-MAP
// again) opens every loop after the first, every loop start and the first segment get
// EXT-X-PROGRAM-DATE-TIME; no ENDLIST, no PLAYLIST-TYPE.
// Segment URIs stay relative (so they are served from /__live/<spec>/…, i.e. the VOD files);
// root-relative URIs get the prefix. A multivariant playlist is served with its root-relative
// URIs prefixed (relative ones already resolve to live media playlists).
//
// DASH (needs a SegmentTemplate with $Number$: @duration, e.g. streams/dash-number, or a
// SegmentTimeline, e.g. streams/dash-timeline, which is rewritten to the window's segments with
// startNumber = the first one's number and times counting on across loops): type="dynamic",
// availabilityStartTime = now - (now - start) * speed (= start at speed 1), publishTime,
// timeShiftBufferDepth = window, minimumUpdatePeriod = one segment, UTCTiming (direct), no
// mediaPresentationDuration; side-car text AdaptationSets (one VTT file) are dropped, segmented
// ones (a SegmentTemplate, e.g. wvtt in dash-number/manifest-wvtt.mpd) stay. Segment number n
// (from startNumber s) is available once (n - s + 1) * duration has passed on the live clock
// (earlier: 404); numbers past the VOD's last wrap: n → s + (n - s) mod count.
// Timestamps inside the media repeat every loop (HLS marks this with the discontinuity; DASH
// segments of the second loop carry the first loop's times): a DASH live test that must not
// see this stays within the first VOD duration (30 s for the streams fixtures).

const DEFAULT_WINDOW = 20;

/** Error for a request that cannot be served live (the server answers 400 with its message). */
export class LiveError extends Error {}

/**
 * Parses `start=…,window=…,speed=…` (or `-`) into { start, window, speed }; unknown keys and
 * bad values throw a LiveError. `defaultStart` is used when start is absent.
 */
export function parseLiveSpec(spec, defaultStart) {
  const out = { start: defaultStart, window: DEFAULT_WINDOW, speed: 1, end: null };
  if (spec === '-' || spec === '') return out;
  for (const part of spec.split(',')) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (k === 'start' && /^\d{1,15}$/.test(v ?? '')) out.start = n;
    else if (k === 'window' && n >= 1 && n <= 86400) out.window = n;
    else if (k === 'speed' && n >= 0.01 && n <= 1000) out.speed = n;
    else if (k === 'end' && n > 0 && n <= 1e7) out.end = n;
    else throw new LiveError(`bad live spec part '${part}' (start=EPOCH_MS, window=1..86400, speed=0.01..1000, end=S)`);
  }
  return out;
}

/** The spec string for a query (`?start=&window=&speed=`), for the redirect to the path form. */
export function specFromQuery(params) {
  const parts = ['start', 'window', 'speed', 'end'].filter((k) => params.has(k)).map((k) => `${k}=${params.get(k)}`);
  return parts.length ? parts.join(',') : '-';
}

const prefixUri = (uri, prefix) => (uri.startsWith('/') && !uri.startsWith('//') ? prefix + uri : uri);
const prefixAttr = (line, prefix) => line.replace(/URI="([^"]*)"/, (_, u) => `URI="${prefixUri(u, prefix)}"`);

/** True for a multivariant (master) playlist. */
export const isMultivariant = (text) => /#EXT-X-STREAM-INF|#EXT-X-MEDIA:|#EXT-X-I-FRAME-STREAM-INF/.test(text);

/**
 * A VOD media playlist: { header: [tag lines], segments: [{ duration, lines, uri, map }] },
 * every EXT-X-BYTERANGE made explicit (len@offset) so segments can be listed in any window.
 */
export function parseMediaPlaylist(text) {
  const header = [];
  const segments = [];
  let pending = [], map = null, duration = null, range = null, lastUri = null, nextOffset = 0;
  const dropped = /^#EXT-X-(ENDLIST|PLAYLIST-TYPE|MEDIA-SEQUENCE|DISCONTINUITY-SEQUENCE|PROGRAM-DATE-TIME|DISCONTINUITY$)/;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line === '#EXTM3U' || dropped.test(line)) continue;
    if (line.startsWith('#EXT-X-MAP')) { map = line; continue; }
    if (line.startsWith('#EXTINF:')) { duration = parseFloat(line.slice(8)); pending.push(line); continue; }
    if (line.startsWith('#EXT-X-BYTERANGE:')) {
      const [len, off] = line.slice(17).split('@');
      range = { len: Number(len), off: off === undefined ? null : Number(off) };
      continue;
    }
    if (line.startsWith('#')) { (duration === null && segments.length === 0 ? header : pending).push(line); continue; }
    if (duration === null || !(duration > 0)) throw new LiveError(`segment ${line} has no EXTINF duration`);
    if (range) {
      const off = range.off ?? (lastUri === line ? nextOffset : 0);
      pending.push(`#EXT-X-BYTERANGE:${range.len}@${off}`);
      nextOffset = off + range.len;
    }
    segments.push({ duration, lines: pending, uri: line, map });
    lastUri = line;
    pending = []; duration = null; range = null;
  }
  if (!segments.length) throw new LiveError('the playlist has no segments');
  return { header, segments };
}

/** Live clock in seconds since the live start (never negative; stops at `end`). */
const liveSeconds = ({ start, speed, end }, now) => Math.min(end ?? Infinity, Math.max(0, ((now - start) * speed) / 1000));

/** The live stream has ended (`end=` reached). */
export const liveEnded = (live, now) => live.end != null && ((now - live.start) * live.speed) / 1000 >= live.end;

/** Which segments of the endless loop are listed at `now`: { first, last } (last < first: none). */
export function hlsWindow(durations, { start, window, speed, end }, now) {
  const n = durations.length;
  const total = durations.reduce((a, d) => a + d, 0);
  const t = liveSeconds({ start, speed, end }, now);
  const loops = Math.floor(t / total);
  let rem = t - loops * total, j = 0;
  for (; j < n && rem + 1e-9 >= durations[j]; j++) rem -= durations[j];
  const last = loops * n + j - 1;
  let first = last, sum = durations[((last % n) + n) % n];
  while (first - 1 >= 0 && sum + durations[(first - 1) % n] <= window + 1e-9) sum += durations[--first % n];
  return { first, last, total };
}

/** The live media playlist for a VOD one at `now` (ms). `prefix` goes before root-relative URIs. */
export function liveHlsPlaylist(text, live, now, prefix = '') {
  if (isMultivariant(text)) {
    return text.split(/\r?\n/).map((l) => (l.startsWith('#') ? prefixAttr(l, prefix) : l && prefixUri(l, prefix))).join('\n');
  }
  const { header, segments } = parseMediaPlaylist(text);
  const n = segments.length;
  const durations = segments.map((s) => s.duration);
  const starts = [];
  durations.reduce((a, d, i) => { starts[i] = a; return a + d; }, 0);
  const { first, last, total } = hlsWindow(durations, live, now);
  const out = ['#EXTM3U', ...header];
  out.push(`#EXT-X-MEDIA-SEQUENCE:${Math.max(0, first)}`);
  out.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${Math.max(0, Math.floor(first / n))}`);
  let map = null;
  // Before the first segment has ended, last = first = -1: nothing is listed.
  for (let k = Math.max(0, first); k <= last; k++) {
    const i = k % n, loop = Math.floor(k / n), seg = segments[i];
    const wrap = i === 0 && k > first;
    if (wrap) out.push('#EXT-X-DISCONTINUITY');
    if (seg.map && (seg.map !== map || wrap)) { out.push(prefixAttr(seg.map, prefix)); map = seg.map; }
    if (k === Math.max(0, first) || i === 0) {
      const wall = live.start + ((loop * total + starts[i]) * 1000) / live.speed;
      out.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(wall).toISOString()}`);
    }
    out.push(...seg.lines, prefixUri(seg.uri, prefix));
  }
  if (liveEnded(live, now)) out.push('#EXT-X-ENDLIST');
  return out.join('\n') + '\n';
}

const isoDuration = (s) => `PT${Number(s.toFixed(3))}S`;
const parseIsoDuration = (d) => {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(d ?? '');
  if (!m) return NaN;
  return (Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
};
const attr = (tag, name) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

/**
 * The $Number$ templates of a VOD MPD: [{ regex, file(n), startNumber, seconds, count,
 * end(k), timeline }]; `count` = segments in the VOD, `end(k)` = end (s) of the k-th segment
 * (k from 0) of the endless looped sequence, `seconds` = the longest segment. Either
 * SegmentTemplate@duration or a SegmentTimeline (its <S t d r> expanded; `timeline` then
 * holds { timescale, starts, durations } in ticks of one loop).
 */
export function numberTemplates(mpd) {
  const total = parseIsoDuration(attr(/<MPD[^>]*>/.exec(mpd)?.[0] ?? '', 'mediaPresentationDuration'));
  const out = [];
  for (const rep of mpd.matchAll(/<Representation\b([^>]*)>([\s\S]*?)<\/Representation>/g)) {
    const tag = /<SegmentTemplate\b[^>]*>/.exec(rep[2])?.[0];
    const media = tag && attr(tag, 'media');
    if (!media || !media.includes('$Number')) continue;
    const id = attr(rep[1], 'id') ?? '';
    const timescale = Number(attr(tag, 'timescale') ?? 1);
    const startNumber = Number(attr(tag, 'startNumber') ?? 1);
    let timeline = null, seconds, count, end;
    const duration = Number(attr(tag, 'duration'));
    const tl = /<SegmentTimeline>([\s\S]*?)<\/SegmentTimeline>/.exec(rep[2]);
    if (tl) {
      const starts = [], durations = [];
      let t = 0;
      for (const m of tl[1].matchAll(/<S\b[^>]*>/g)) {
        const d = Number(attr(m[0], 'd')), r = Number(attr(m[0], 'r') ?? 0);
        if (attr(m[0], 't') !== undefined) t = Number(attr(m[0], 't'));
        if (!(d > 0) || r < 0) continue;
        for (let i = 0; i <= r && starts.length < 100_000; i++) { starts.push(t); durations.push(d); t += d; }
      }
      if (!starts.length) continue;
      const loopTicks = Math.max(t - starts[0], Math.round(total * timescale));
      timeline = { timescale, starts, durations, loopTicks };
      count = starts.length;
      seconds = Math.max(...durations) / timescale;
      end = (k) => (Math.floor(k / count) * loopTicks + starts[k % count] + durations[k % count]) / timescale;
    } else if (duration) {
      seconds = duration / timescale;
      count = Math.max(1, Math.ceil(total / seconds - 1e-6));
      end = (k) => (k + 1) * seconds;
    } else continue;
    const width = Number(/\$Number%0(\d+)d\$/.exec(media)?.[1] ?? 0);
    const literal = media.replace(/\$RepresentationID\$/g, id);
    const pieces = literal.split(/\$Number(?:%0\d+d)?\$/);
    const esc = (x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out.push({
      id,
      regex: new RegExp(`^${pieces.map(esc).join('(\\d+)')}$`),
      file: (n) => pieces.join(String(n).padStart(width, '0')),
      startNumber, seconds, count, end, timeline,
    });
  }
  return out;
}

/**
 * Maps a segment file name under a live DASH manifest to the VOD file that serves it:
 * { file } (the name to serve), { notYet } (404: not available on the live clock), or null
 * (not a $Number$ segment of this MPD: serve the name as it is).
 */
export function liveDashSegment(mpd, name, live, now) {
  for (const t of numberTemplates(mpd)) {
    const m = t.regex.exec(name);
    if (!m) continue;
    const n = Number(m[1]);
    if (n < t.startNumber) return { notYet: true };
    if (t.end(n - t.startNumber) > liveSeconds(live, now) + 1e-6) return { notYet: true };
    return { file: t.file(t.startNumber + ((n - t.startNumber) % t.count)) };
  }
  return null;
}

/**
 * The SegmentTimeline of template `t` on the live clock `clock` (s): the segments of the
 * endless sequence that have ended and end within `window` of it (at least the newest one),
 * as { startNumber, xml }; times keep counting across loops.
 */
function liveTimeline(t, clock, window) {
  const { timescale, starts, durations, loopTicks } = t.timeline;
  let last = -1;
  // Segments end in order: walk from an estimate of the newest available one.
  let k = Math.max(0, Math.floor(clock / t.seconds) - t.count - 1);
  while (t.end(k) <= clock + 1e-6) { last = k; k += 1; }
  if (last < 0) return { startNumber: t.startNumber, xml: '<SegmentTimeline></SegmentTimeline>' };
  let first = last;
  while (first > 0 && t.end(first - 1) > clock - window) first -= 1;
  const S = [];
  for (let i = first; i <= last; i++) {
    const start = Math.floor(i / t.count) * loopTicks + starts[i % t.count];
    S.push(`<S t="${start}" d="${durations[i % t.count]}" />`);
  }
  void timescale;
  return { startNumber: t.startNumber + first, xml: `<SegmentTimeline>${S.join('')}</SegmentTimeline>` };
}

/** `mpd` without its side-car text AdaptationSets (no SegmentTemplate: one file, not live). */
const dropSideCarText = (mpd) => mpd.replace(/[ \t]*<AdaptationSet\b[^>]*contentType="text"[\s\S]*?<\/AdaptationSet>\n?/g,
  (set) => (/<SegmentTemplate\b/.test(set) ? set : ''));

/** The live (dynamic) MPD for a VOD one at `now` (ms). */
export function liveMpd(mpd, live, now, prefix = '') {
  const templates = numberTemplates(mpd);
  if (!templates.length || /<SegmentList|<SegmentBase/.test(mpd)) {
    throw new LiveError('live DASH needs a SegmentTemplate with $Number$ (@duration or a SegmentTimeline, e.g. streams/dash-number or streams/dash-timeline)');
  }
  const seg = Math.max(...templates.map((t) => t.seconds));
  if (liveEnded(live, now)) {
    // Ended: a static MPD of what was broadcast (presentation time 0 to `end`).
    let out = mpd.replace(/<MPD\b[^>]*>/, (tag) => tag
      .replace(/\s+(type|mediaPresentationDuration|availabilityStartTime|publishTime|timeShiftBufferDepth|minimumUpdatePeriod|suggestedPresentationDelay)="[^"]*"/g, '')
      .replace(/>$/, `\n\ttype="static"\n\tmediaPresentationDuration="${isoDuration(live.end)}">`));
    out = dropSideCarText(out);
    return out.replace(/<BaseURL>([^<]*)<\/BaseURL>/g, (_, u) => `<BaseURL>${prefixUri(u, prefix)}</BaseURL>`);
  }
  const ast = now - Math.max(0, (now - live.start) * live.speed);
  let out = mpd.replace(/<MPD\b[^>]*>/, (tag) => tag
    .replace(/\s+(type|mediaPresentationDuration|availabilityStartTime|publishTime|timeShiftBufferDepth|minimumUpdatePeriod|suggestedPresentationDelay)="[^"]*"/g, '')
    .replace(/>$/, `\n\ttype="dynamic"\n\tavailabilityStartTime="${new Date(ast).toISOString()}"\n\tpublishTime="${new Date(now).toISOString()}"` +
      `\n\ttimeShiftBufferDepth="${isoDuration(live.window)}"\n\tminimumUpdatePeriod="${isoDuration(seg)}"\n\tsuggestedPresentationDelay="${isoDuration(3 * seg)}">`));
  out = dropSideCarText(out);
  out = out.replace(/<BaseURL>([^<]*)<\/BaseURL>/g, (_, u) => `<BaseURL>${prefixUri(u, prefix)}</BaseURL>`);
  // SegmentTimeline templates list the window's segments, renumbered from its first one.
  const clock = liveSeconds(live, now);
  out = out.replace(/<Representation\b([^>]*)>([\s\S]*?)<\/Representation>/g, (whole, attrs, body) => {
    const t = templates.find((x) => x.timeline && x.id === (attr(attrs, 'id') ?? ''));
    if (!t || !/<SegmentTimeline>/.test(body)) return whole;
    const { startNumber, xml } = liveTimeline(t, clock, live.window);
    const inner = body
      .replace(/<SegmentTimeline>[\s\S]*?<\/SegmentTimeline>/, xml)
      .replace(/(<SegmentTemplate\b[^>]*?)\sstartNumber="\d+"/, '$1')
      .replace(/<SegmentTemplate\b/, `<SegmentTemplate startNumber="${startNumber}"`);
    return `<Representation${attrs}>${inner}</Representation>`;
  });
  out = out.replace('</MPD>', `\t<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="${new Date(now).toISOString()}" />\n</MPD>`);
  return out;
}

/**
 * What the live server answers for `path` (a URL path or file path under `/__live/<spec>/`) at
 * `now` (ms): the one dispatch of scripts/serve.mjs and scripts/live-gen.mjs.
 * - a `.m3u8` or `.mpd` that exists (`read` is not null; it returns the file's text):
 *   { body } = the live playlist or MPD (a LiveError when it cannot be made live);
 * - otherwise the file name is tried as a $Number$ segment of each MPD of its directory
 *   (`mpds()` returns their texts): { notYet } (404: not available on the live clock) or
 *   { file } (serve that file name of the directory: the number wrapped into the VOD);
 * - null: not live content, serve the file as it is.
 * @param {string} path
 * @param {(() => string) | null} read
 * @param {() => string[]} mpds
 * @param {{ start: number, window: number, speed: number, end: number | null }} live
 * @param {number} now
 * @param {string} [prefix]
 * @returns {{ body?: string, notYet?: boolean, file?: string } | null}
 */
export function liveAnswer(path, read, mpds, live, now, prefix = '') {
  const lower = path.toLowerCase();
  if (read && lower.endsWith('.m3u8')) return { body: liveHlsPlaylist(read(), live, now, prefix) };
  if (read && lower.endsWith('.mpd')) return { body: liveMpd(read(), live, now, prefix) };
  const name = path.slice(path.lastIndexOf('/') + 1);
  for (const mpd of mpds()) {
    const seg = liveDashSegment(mpd, name, live, now);
    if (seg) return seg;
  }
  return null;
}
