// Finishes the manifests scripts/streams.sh has ffmpeg write (ffmpeg 5.1 cannot do these):
//   hls DIR OUT [--no-subs]        writes DIR/master.m3u8 from ffmpeg's ffmpeg-master.m3u8 with
//                                  CODECS, peak/average BANDWIDTH, FRAME-RATE, named AUDIO
//                                  renditions, and a SUBTITLES group: WebVTT cut into 2 s
//                                  segments (subs-LANG/), X-TIMESTAMP-MAP on the video's start.
//   dash DIR OUT [--segment-base|--wvtt] edits DIR/manifest.mpd: lang="en"/"de" (BCP 47, not ffmpeg's
//                                  ISO 639-2), Role main/dub, side-car text/vtt AdaptationSets;
//                                  --segment-base: manifest.mpd uses SegmentBase over each
//                                  file's sidx, ffmpeg's SegmentList stays as manifest-list.mpd;
//                                  --wvtt: also manifest-wvtt.mpd, the text as WebVTT in fMP4
//                                  segments (wvtt-LANG/) instead of side-car files.
//   thumbs DIR OUT                 as dash, then a thumbnail image set over DIR/tiles/, and
//                                  DIR/text-only.mpd and DIR/images-only.mpd (text or images alone).
// OUT holds subs-en.vtt and subs-de.vtt and src/ (the mezzanine). Only for ffmpeg's own output
// layout (string edits, not a general M3U8/MPD rewriter).
import { readFileSync, writeFileSync, readdirSync, statSync, mkdirSync, copyFileSync, rmSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { execFileSync } from 'node:child_process';

const LANGS = [
  { lang: 'en', iso: 'eng', name: 'English', role: 'main' },
  { lang: 'de', iso: 'deu', name: 'Deutsch', role: 'dub' },
];
const SEG = 2; // seconds per segment, as streams.sh cuts them

/** Attributes of an M3U8 tag line (`KEY=VALUE,KEY="V,ALUE"`). */
export function attrs(line) {
  const out = {};
  const body = line.slice(line.indexOf(':') + 1);
  for (const m of body.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) out[m[1]] = m[2].replace(/^"|"$/g, '');
  return out;
}

/** Segments of a media playlist: { duration, uri, length } (length: bytes, from BYTERANGE or the file). */
function mediaSegments(file) {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const segs = [];
  let duration = null, range = null, version = 1;
  for (const line of lines) {
    if (line.startsWith('#EXT-X-VERSION:')) version = Number(line.slice(15));
    else if (line.startsWith('#EXTINF:')) duration = parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-BYTERANGE:')) range = Number(line.slice(17).split('@')[0]);
    else if (line && !line.startsWith('#') && duration !== null) {
      const length = range ?? statSync(join(dirname(file), line)).size;
      segs.push({ duration, uri: line, length });
      duration = null; range = null;
    }
  }
  return { segs, version };
}

function bitrates(segs) {
  const peak = Math.max(...segs.map((s) => (s.length * 8) / s.duration));
  const avg = (segs.reduce((a, s) => a + s.length, 0) * 8) / segs.reduce((a, s) => a + s.duration, 0);
  return { peak: Math.ceil(peak), avg: Math.ceil(avg) };
}

/** RFC 6381 codec string of the H.264 stream in an MP4 (profile, constraints, level from avcC). */
function avcCodec(file) {
  const data = readFileSync(file);
  const i = data.indexOf('avcC');
  if (i < 0) throw new Error(`${file}: no avcC`);
  const hex = (b) => b.toString(16).padStart(2, '0');
  return `avc1.${hex(data[i + 5])}${hex(data[i + 6])}${hex(data[i + 7])}`;
}

function probe(args) {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', ...args]).toString());
}

const vttTime = (s) => {
  const ms = Math.round(s * 1000);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(Math.floor(ms / 3600000))}:${p(Math.floor(ms / 60000) % 60)}:${p(Math.floor(ms / 1000) % 60)}.${p(ms % 1000, 3)}`;
};
const parseVttTime = (t) => t.split(':').reduce((a, x) => a * 60 + parseFloat(x), 0);

/** Cues of a WebVTT file: { id, start, end, text }. */
function vttCues(file) {
  const cues = [];
  for (const block of readFileSync(file, 'utf8').split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/).filter(Boolean);
    const at = lines.findIndex((l) => l.includes('-->'));
    if (at < 0) continue;
    const [a, b] = lines[at].split('-->').map((x) => parseVttTime(x.trim().split(/\s+/)[0]));
    const settings = lines[at].split('-->')[1].trim().split(/\s+/).slice(1).join(' ');
    cues.push({ id: at > 0 ? lines[0] : null, start: a, end: b, settings, text: lines.slice(at + 1).join('\n') });
  }
  return cues;
}

/**
 * Subtitle rendition DIR/subs-LANG/: 2 s WebVTT segments (each holds every cue that shows
 * during it, so a cue across a boundary is in both) and their media playlist.
 */
function subtitleRendition(dir, vtt, lang, { duration, mpegts, version }) {
  const sub = join(dir, `subs-${lang}`);
  mkdirSync(sub, { recursive: true });
  const cues = vttCues(vtt);
  const n = Math.ceil(duration / SEG - 1e-6);
  let pl = `#EXTM3U\n#EXT-X-VERSION:${version}\n#EXT-X-TARGETDURATION:${SEG}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n`;
  for (let k = 0; k < n; k++) {
    const a = k * SEG, b = Math.min(duration, (k + 1) * SEG);
    let body = `WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${mpegts},LOCAL:00:00:00.000\n\n`;
    for (const c of cues.filter((c) => c.start < b && c.end > a)) {
      body += `${c.id ? c.id + '\n' : ''}${vttTime(c.start)} --> ${vttTime(c.end)}\n${c.text}\n\n`;
    }
    writeFileSync(join(sub, `seg${k}.vtt`), body);
    pl += `#EXTINF:${(b - a).toFixed(6)},\nseg${k}.vtt\n`;
  }
  writeFileSync(join(sub, 'index.m3u8'), pl + '#EXT-X-ENDLIST\n');
}

// --- WebVTT in fragmented MP4 (ISO/IEC 14496-30 `wvtt`), as DASH packagers deliver it ------
// ffmpeg 5.1 cannot write it. One init segment (a `text` track, `wvtt` sample entry whose
// `vttC` is the file header) and one media segment per 2 s: samples tile the segment, one per
// interval between cue boundaries, holding a `vttc` box per active cue or a `vtte` box.
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
const box = (type, ...parts) => { const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))); return Buffer.concat([u32(8 + body.length), Buffer.from(type), body]); };
const full = (type, version, flags, ...parts) => box(type, u32((version << 24) | flags), ...parts);
const zeros = (n) => Buffer.alloc(n);
const matrix = Buffer.concat([u32(0x10000), u32(0), u32(0), u32(0), u32(0x10000), u32(0), u32(0), u32(0), u32(0x40000000)]);

function wvttInit(header) {
  const stsd = full('stsd', 0, 0, u32(1), box('wvtt', zeros(6), Buffer.from([0, 1]), box('vttC', header)));
  const stbl = box('stbl', stsd, full('stts', 0, 0, u32(0)), full('stsc', 0, 0, u32(0)), full('stsz', 0, 0, u32(0), u32(0)), full('stco', 0, 0, u32(0)));
  const minf = box('minf', full('nmhd', 0, 0), box('dinf', full('dref', 0, 0, u32(1), full('url ', 0, 1))), stbl);
  const mdia = box('mdia', full('mdhd', 0, 0, u32(0), u32(0), u32(1000), u32(0), Buffer.from([0x55, 0xc4, 0, 0])),
    full('hdlr', 0, 0, u32(0), 'text', zeros(12), 'WebVTT\0'), minf);
  const tkhd = full('tkhd', 0, 3, u32(0), u32(0), u32(1), u32(0), u32(0), zeros(8), zeros(8), matrix, u32(0), u32(0));
  const mvhd = full('mvhd', 0, 0, u32(0), u32(0), u32(1000), u32(0), u32(0x10000), Buffer.from([1, 0]), zeros(10), matrix, zeros(24), u32(2));
  const mvex = box('mvex', full('trex', 0, 0, u32(1), u32(1), u32(0), u32(0), u32(0)));
  return Buffer.concat([box('ftyp', 'iso6', u32(0), 'iso6', 'dash', 'cmfc'), box('moov', mvhd, box('trak', tkhd, mdia), mvex)]);
}

/** One media segment `number` over [a, b) seconds of `cues` (`{ id, start, end, text, settings }`). */
function wvttSegment(cues, number, a, b) {
  const ms = (t) => Math.round(t * 1000);
  const cuts = new Set([ms(a), ms(b)]);
  for (const c of cues) for (const t of [c.start, c.end]) if (t > a && t < b) cuts.add(ms(t));
  const times = [...cuts].sort((x, y) => x - y);
  const samples = [];
  for (let i = 0; i + 1 < times.length; i++) {
    const [x, y] = [times[i], times[i + 1]];
    const on = cues.filter((c) => ms(c.start) <= x && ms(c.end) > x);
    const data = on.length
      ? Buffer.concat(on.map((c) => box('vttc', ...(c.id ? [box('iden', c.id)] : []), ...(c.settings ? [box('sttg', c.settings)] : []), box('payl', c.text))))
      : box('vtte');
    samples.push({ duration: y - x, data });
  }
  const trun = (offset) => full('trun', 0, 0x301, u32(samples.length), u32(offset), ...samples.flatMap((s) => [u32(s.duration), u32(s.data.length)]));
  const traf = (offset) => box('traf', full('tfhd', 0, 0x20000, u32(1)), full('tfdt', 1, 0, u64(ms(a))), trun(offset));
  const moofOf = (offset) => box('moof', full('mfhd', 0, 0, u32(number)), traf(offset));
  const moof = moofOf(moofOf(0).length + 8);
  return Buffer.concat([moof, box('mdat', ...samples.map((s) => s.data))]);
}

/**
 * `wvtt` text renditions DIR/wvtt-LANG/ (init.mp4, seg-N.m4s from N = 1 for each 2 s) and
 * their AdaptationSets for an MPD.
 */
function wvttRenditions(dir, out, duration, firstId) {
  let sets = '', id = firstId;
  for (const l of LANGS) {
    const sub = join(dir, `wvtt-${l.lang}`);
    mkdirSync(sub, { recursive: true });
    const cues = vttCues(join(out, `subs-${l.lang}.vtt`));
    writeFileSync(join(sub, 'init.mp4'), wvttInit('WEBVTT'));
    const n = Math.ceil(duration / SEG - 1e-6);
    let bytes = 0;
    for (let k = 0; k < n; k++) {
      const seg = wvttSegment(cues, k + 1, k * SEG, Math.min(duration, (k + 1) * SEG));
      writeFileSync(join(sub, `seg-${k + 1}.m4s`), seg);
      bytes += seg.length;
    }
    sets += `\t\t<AdaptationSet id="${id++}" contentType="text" mimeType="application/mp4" codecs="wvtt" lang="${l.lang}">\n` +
      `\t\t\t<Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle" />\n` +
      `\t\t\t<Representation id="wvtt-${l.lang}" bandwidth="${Math.ceil((bytes * 8) / duration)}">\n` +
      `\t\t\t\t<SegmentTemplate timescale="1000" duration="${SEG * 1000}" initialization="wvtt-${l.lang}/init.mp4" media="wvtt-${l.lang}/seg-$Number$.m4s" startNumber="1" />\n` +
      `\t\t\t</Representation>\n\t\t</AdaptationSet>\n`;
  }
  return sets;
}

function hls(dir, out, { subs }) {
  const ffMaster = join(dir, 'ffmpeg-master.m3u8');
  const lines = readFileSync(ffMaster, 'utf8').split(/\r?\n/);
  const audio = [], video = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('#EXT-X-MEDIA:')) audio.push(attrs(lines[i]));
    if (lines[i].startsWith('#EXT-X-STREAM-INF:')) video.push({ ...attrs(lines[i]), URI: lines[i + 1] });
  }
  // The mezzanine files by resolution: codec strings and frame rates come from there.
  const src = {};
  for (const f of readdirSync(join(out, 'src')).filter((f) => /^v\d+\.mp4$/.test(f))) {
    const s = probe(['-select_streams', 'v:0', '-show_entries', 'stream=width,height,avg_frame_rate', join(out, 'src', f)]).streams[0];
    const [num, den] = s.avg_frame_rate.split('/').map(Number);
    src[`${s.width}x${s.height}`] = { codec: avcCodec(join(out, 'src', f)), fps: num / den };
  }
  let version = 1;
  const media = (uri) => { const m = mediaSegments(join(dir, uri)); version = Math.max(version, m.version); return m.segs; };
  const audioRates = audio.map((a) => bitrates(media(a.URI)));
  const audioPeak = Math.max(0, ...audioRates.map((r) => r.peak));
  const audioAvg = Math.max(0, ...audioRates.map((r) => r.avg));
  let m3u = '';
  const head = () => `#EXTM3U\n#EXT-X-VERSION:${version}\n#EXT-X-INDEPENDENT-SEGMENTS\n`;
  for (const a of audio) {
    const l = LANGS.find((l) => l.lang === a.LANGUAGE);
    m3u += `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="${l.name}",LANGUAGE="${l.lang}",DEFAULT=${a.DEFAULT === 'YES' ? 'YES' : 'NO'},AUTOSELECT=YES,CHANNELS="2",URI="${a.URI}"\n`;
  }
  if (subs) {
    // Media time 0 of the subtitles = the first video frame of the first rung.
    const first = mediaSegments(join(dir, video[0].URI));
    const base = dirname(join(dir, video[0].URI));
    const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(readFileSync(join(dir, video[0].URI), 'utf8'));
    const input = map ? `concat:${join(base, map[1])}|${join(base, first.segs[0].uri)}` : join(base, first.segs[0].uri);
    const start = Number(probe(['-select_streams', 'v:0', '-show_entries', 'stream=start_time', input]).streams[0].start_time);
    const duration = first.segs.reduce((a, s) => a + s.duration, 0);
    for (const l of LANGS) {
      subtitleRendition(dir, join(out, `subs-${l.lang}.vtt`), l.lang, { duration, mpegts: Math.round(start * 90000), version });
      m3u += `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="${l.name}",LANGUAGE="${l.lang}",DEFAULT=${l.lang === 'en' ? 'YES' : 'NO'},AUTOSELECT=YES,FORCED=NO,URI="subs-${l.lang}/index.m3u8"\n`;
    }
  }
  for (const v of video.sort((a, b) => Number(a.BANDWIDTH) - Number(b.BANDWIDTH))) {
    const r = bitrates(media(v.URI));
    const s = src[v.RESOLUTION];
    if (!s) throw new Error(`no mezzanine for ${v.RESOLUTION}`);
    m3u += `#EXT-X-STREAM-INF:BANDWIDTH=${r.peak + audioPeak},AVERAGE-BANDWIDTH=${r.avg + audioAvg},` +
      `CODECS="${s.codec},mp4a.40.2",RESOLUTION=${v.RESOLUTION},FRAME-RATE=${s.fps.toFixed(3)},AUDIO="aud"${subs ? ',SUBTITLES="subs"' : ''}\n${v.URI}\n`;
  }
  writeFileSync(join(dir, 'master.m3u8'), head() + m3u);
  rmSync(ffMaster);
}

/** Top-level boxes of an MP4 file: [{ type, start, end }] (end inclusive). */
function topBoxes(file) {
  const d = readFileSync(file);
  const boxes = [];
  for (let i = 0; i + 8 <= d.length;) {
    let size = d.readUInt32BE(i);
    if (size === 1) size = Number(d.readBigUInt64BE(i + 8));
    if (size === 0) size = d.length - i;
    if (size < 8) throw new Error(`${file}: bad box at ${i}`);
    boxes.push({ type: d.toString('latin1', i + 4, i + 8), start: i, end: i + size - 1 });
    i += size;
  }
  return boxes;
}

function dash(dir, out, { segmentBase, wvtt }) {
  const file = join(dir, 'manifest.mpd');
  let mpd = readFileSync(file, 'utf8');
  mpd = mpd.replace(/ lang="und"/g, '');
  for (const l of LANGS) {
    mpd = mpd.replace(new RegExp(`(<AdaptationSet [^>]*?)lang="(?:${l.iso}|${l.lang})">`, 'g'),
      `$1lang="${l.lang}">\n\t\t\t<Role schemeIdUri="urn:mpeg:dash:role:2011" value="${l.role}" />`);
  }
  let id = Math.max(...[...mpd.matchAll(/<AdaptationSet id="(\d+)"/g)].map((m) => Number(m[1]))) + 1;
  let text = '';
  for (const l of LANGS) {
    const vtt = `subs-${l.lang}.vtt`;
    copyFileSync(join(out, vtt), join(dir, vtt));
    const bandwidth = Math.ceil((statSync(join(dir, vtt)).size * 8) / 30);
    text += `\t\t<AdaptationSet id="${id++}" contentType="text" mimeType="text/vtt" lang="${l.lang}">\n` +
      `\t\t\t<Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle" />\n` +
      `\t\t\t<Representation id="subs-${l.lang}" bandwidth="${bandwidth}">\n\t\t\t\t<BaseURL>${vtt}</BaseURL>\n\t\t\t</Representation>\n` +
      `\t\t</AdaptationSet>\n`;
  }
  if (!mpd.includes('</Period>')) throw new Error(`${file}: no Period`);
  if (wvtt) {
    // The same presentation with its text as `wvtt` segments instead of side-car files.
    const duration = parseFloat(/mediaPresentationDuration="PT([\d.]+)S"/.exec(mpd)?.[1] ?? 'NaN');
    if (!(duration > 0)) throw new Error(`${file}: no mediaPresentationDuration in seconds`);
    writeFileSync(join(dir, 'manifest-wvtt.mpd'), mpd.replace('\t</Period>', `${wvttRenditions(dir, out, duration, id)}\t</Period>`));
  }
  mpd = mpd.replace('\t</Period>', `${text}\t</Period>`);
  if (!segmentBase) { writeFileSync(file, mpd); return; }
  writeFileSync(join(dir, 'manifest-list.mpd'), mpd);
  // SegmentBase: the init is everything before the sidx, the index is the sidx box.
  const based = mpd.replace(/(<BaseURL>([^<]+\.mp4)<\/BaseURL>\s*)<SegmentList [\s\S]*?<\/SegmentList>/g, (_, keep, name) => {
    const boxes = topBoxes(join(dir, name));
    const sidx = boxes.find((b) => b.type === 'sidx');
    if (!sidx) throw new Error(`${name}: no sidx`);
    return `${keep}<SegmentBase indexRange="${sidx.start}-${sidx.end}" indexRangeExact="true">\n` +
      `\t\t\t\t\t<Initialization range="0-${sidx.start - 1}" />\n\t\t\t\t</SegmentBase>`;
  });
  if (based.includes('<SegmentList')) throw new Error(`${file}: a SegmentList was left`);
  writeFileSync(file, based);
}

// --- thumbnails, and presentations without audio or video ------------------------------------
/**
 * DIR/manifest.mpd (ffmpeg's, one video and one audio set) gets the text sets and a thumbnail
 * image set over DIR/tiles/tile-N.jpg (5x2 grids of 256x144, 10 s per image, from N = 1);
 * DIR/text-only.mpd holds only the text sets, DIR/images-only.mpd only the image set.
 */
function thumbs(dir, out) {
  dash(dir, out, { segmentBase: false, wvtt: false });
  const file = join(dir, 'manifest.mpd');
  const mpd = readFileSync(file, 'utf8');
  const images = '\t\t<AdaptationSet id="9" contentType="image" mimeType="image/jpeg">\n' +
    '\t\t\t<SegmentTemplate media="tiles/tile-$Number$.jpg" timescale="1" duration="10" startNumber="1" />\n' +
    '\t\t\t<Representation id="thumbs-256" bandwidth="12000" width="1280" height="288">\n' +
    '\t\t\t\t<EssentialProperty schemeIdUri="http://dashif.org/guidelines/thumbnail_tile" value="5x2" />\n' +
    '\t\t\t</Representation>\n\t\t</AdaptationSet>\n';
  const start = mpd.indexOf('<AdaptationSet');
  const text = mpd.indexOf('contentType="text"');
  const head = mpd.slice(0, start).trimEnd() + '\n';
  const tail = '\t</Period>\n</MPD>\n';
  // The text sets are the last ones streams-manifests wrote (after ffmpeg's own).
  const textSets = mpd.slice(mpd.lastIndexOf('<AdaptationSet', text) - 2, mpd.indexOf('\t</Period>'));
  if (start < 0 || text < 0 || !textSets.includes('text/vtt')) throw new Error(`${file}: unexpected layout`);
  writeFileSync(file, mpd.replace('\t</Period>', `${images}\t</Period>`));
  writeFileSync(join(dir, 'text-only.mpd'), head + textSets + tail);
  writeFileSync(join(dir, 'images-only.mpd'), head + images + tail);
}

const [mode, dir, out, ...flags] = process.argv.slice(2);
if (!dir || !out || !existsSync(dir)) {
  console.error('usage: streams-manifests.mjs hls|dash|thumbs DIR OUT [--no-subs|--segment-base|--wvtt]');
  process.exit(2);
}
if (mode === 'hls') hls(dir, out, { subs: !flags.includes('--no-subs') });
else if (mode === 'thumbs') thumbs(dir, out);
else if (mode === 'dash') dash(dir, out, { segmentBase: flags.includes('--segment-base'), wvtt: flags.includes('--wvtt') });
else { console.error(`unknown mode ${mode}`); process.exit(2); }
