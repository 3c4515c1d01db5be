// The stream test server (scripts/serve.mjs: Range, live simulation, per-session faults and
// their log) and the stream fixtures (scripts/streams.sh), without a browser: plain HTTP
// requests, ffprobe/ffmpeg against the server, and the frame-index block code read back from
// decoded frames with the rule of video.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { mulberry32 } from '../../scripts/serve-control.mjs';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const gen = join(repo, 'tests/fixtures/gen');
const streams = join(gen, 'streams');
const S = 'fixtures/streams';

let server, base;
before(async () => {
  // Idempotent: seconds when the streams exist (test.sh's fixtures step made them).
  execFileSync('bash', [join(repo, 'scripts/streams.sh')], { stdio: 'inherit' });
  server = await startServer({ root: join(repo, 'www'), port: 0, mounts: { '/fixtures/': gen } });
  base = server.url.replace(/\/$/, '');
}, { timeout: 300_000 });
after(() => server?.close());

/**
 * GET (never rejects): { status, headers, body, bytes, error, ms, firstByteMs }. A body cut
 * short (socket destroyed) gives error set and the bytes that did arrive.
 */
function get(path, { headers = {}, method = 'GET' } = {}) {
  return new Promise((done) => {
    const t0 = performance.now();
    const out = { status: 0, headers: {}, body: Buffer.alloc(0), bytes: 0, error: null, ms: 0, firstByteMs: null };
    const chunks = [];
    const finish = (error) => {
      if (out.ms) return;
      out.ms = performance.now() - t0;
      out.error = error ?? null;
      out.body = Buffer.concat(chunks);
      done(out);
    };
    const req = http.request(base + path, { method, headers, agent: false }, (res) => {
      out.status = res.statusCode;
      out.headers = res.headers;
      res.on('data', (c) => { out.firstByteMs ??= performance.now() - t0; chunks.push(c); out.bytes += c.length; });
      res.on('end', () => finish(res.complete ? null : 'incomplete'));
      res.on('aborted', () => finish('aborted'));
      res.on('error', (/** @type {NodeJS.ErrnoException} */ e) => finish(e.code ?? e.message));
    });
    req.on('error', (/** @type {NodeJS.ErrnoException} */ e) => finish(e.code ?? e.message));
    req.end();
  });
}
async function control(session, body) {
  const r = await fetch(`${base}/__control/${session}`, { method: 'POST', body: JSON.stringify(body) });
  const json = await r.json();
  assert.equal(r.status, 200, JSON.stringify(json));
  return json;
}
const log = async (session) => (await (await fetch(`${base}/__control/${session}/log`)).json()).entries;
const file = (p) => readFileSync(join(streams, p));

test('Range on segments: 206 slices, suffix, 416, HEAD; also under a session and a live prefix', async () => {
  const seg = 'hls-fmp4/720p/seg3.m4s';
  const whole = file(seg);
  for (const prefix of ['', '/__s/range', `/__live/start=${Date.now() - 60_000}`]) {
    const r = await get(`${prefix}/${S}/${seg}`, { headers: { Range: 'bytes=1000-1999' } });
    assert.equal(r.status, 206, prefix);
    assert.equal(r.headers['content-range'], `bytes 1000-1999/${whole.length}`);
    assert.ok(r.body.equals(whole.subarray(1000, 2000)), `${prefix}: the bytes of the range`);
    const tail = await get(`${prefix}/${S}/${seg}`, { headers: { Range: 'bytes=-500' } });
    assert.equal(tail.status, 206);
    assert.ok(tail.body.equals(whole.subarray(whole.length - 500)));
    const bad = await get(`${prefix}/${S}/${seg}`, { headers: { Range: `bytes=${whole.length}-` } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], `bytes */${whole.length}`);
  }
  const head = await get(`/${S}/${seg}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(whole.length));
  assert.equal(head.headers['content-type'], 'video/iso.segment');
  // Byte-range HLS: every EXT-X-BYTERANGE of the single-file rung lands on a moof.
  const pl = file('hls-byterange/360p.m3u8').toString();
  const ranges = [...pl.matchAll(/#EXT-X-BYTERANGE:(\d+)@(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.equal(ranges.length, 15);
  for (const [len, off] of ranges.slice(0, 3)) {
    const r = await get(`/${S}/hls-byterange/360p.mp4`, { headers: { Range: `bytes=${off}-${off + len - 1}` } });
    assert.equal(r.bytes, len);
    // ffmpeg puts a sidx before each fragment's moof.
    assert.ok(['sidx', 'styp', 'moof'].includes(r.body.toString('latin1', 4, 8)), `range ${len}@${off} starts with a box`);
    assert.ok(r.body.subarray(0, 2000).includes('moof'), `range ${len}@${off} holds a moof`);
  }
});

/** { seq, dseq, uris, durations, ended, discontinuities } of a live media playlist. */
function parseLive(text) {
  const num = (tag) => Number(new RegExp(`#${tag}:(\\d+)`).exec(text)?.[1]);
  return {
    seq: num('EXT-X-MEDIA-SEQUENCE'), dseq: num('EXT-X-DISCONTINUITY-SEQUENCE'),
    uris: text.split('\n').filter((l) => l && !l.startsWith('#')),
    durations: [...text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1])),
    ended: text.includes('#EXT-X-ENDLIST') || text.includes('PLAYLIST-TYPE'),
    discontinuities: (text.match(/#EXT-X-DISCONTINUITY\n/g) ?? []).length,
  };
}

test('live HLS: the window slides with the clock (speed=10), loops with discontinuities', async () => {
  const speed = 10, window = 10;
  const start = Date.now() - 2600; // 26 s of live clock: 13 segments of 2 s are complete
  const url = `/__live/start=${start},window=${window},speed=${speed}/${S}/hls-fmp4/720p/index.m3u8`;
  const samples = [];
  for (let i = 0; i < 4; i++) {
    const t = Date.now();
    const r = await get(url);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/vnd.apple.mpegurl');
    samples.push({ t, ...parseLive(r.body.toString()), text: r.body.toString() });
    await new Promise((ok) => setTimeout(ok, 700));
  }
  for (const s of samples) {
    const live = ((s.t - start) * speed) / 1000;
    const complete = Math.floor(live / 2); // segments whose end has passed
    assert.equal(s.ended, false, 'no ENDLIST / PLAYLIST-TYPE in a live playlist');
    // The newest listed segment is the last complete one (±1 for the request's own time).
    const last = s.seq + s.uris.length - 1;
    assert.ok(Math.abs(last - (complete - 1)) <= 1, `last listed ${last}, complete ${complete}`);
    assert.ok(s.durations.reduce((a, d) => a + d, 0) <= window + 1e-6, 'the window holds at most `window` seconds');
    assert.equal(s.uris.length, window / 2);
    // Consecutive segments of the loop: seq k is VOD segment k mod 15.
    s.uris.forEach((u, i) => assert.equal(u, `seg${(s.seq + i) % 15}.m4s`));
    assert.equal(s.dseq, Math.floor(s.seq / 15), 'the discontinuity sequence counts the loops before the first segment');
    const wraps = s.uris.filter((u, i) => u === 'seg0.m4s' && i > 0).length;
    assert.equal(s.discontinuities, wraps, 'one EXT-X-DISCONTINUITY at each wrap');
    if (wraps) assert.match(s.text, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init_2.mp4"\n#EXT-X-PROGRAM-DATE-TIME:/);
  }
  assert.ok(samples.at(-1).seq - samples[0].seq >= 8, `the window moved: ${samples.map((s) => s.seq)}`);
  assert.ok(samples.some((s) => s.discontinuities > 0), 'the 30 s VOD wrapped inside the samples');
  assert.ok(samples.at(-1).dseq >= 1);
  // The multivariant keeps relative URIs: they resolve to live media playlists.
  const mv = await get(`/__live/start=${start}/${S}/hls-ts/master.m3u8`);
  assert.match(mv.body.toString(), /\n720p\/index\.m3u8\n/);
  const audio = await get(`/__live/start=${start},window=6/${S}/hls-ts/audio-de/index.m3u8`);
  assert.equal(parseLive(audio.body.toString()).ended, false);
  // The query form redirects to the path form.
  const q = await get(`/__s/qq/__live/${S}/hls-ts/master.m3u8?start=${start}&window=8`);
  assert.equal(q.status, 302);
  assert.equal(q.headers.location, `/__s/qq/__live/start=${start},window=8/${S}/hls-ts/master.m3u8`);
});

test('live HLS: ffmpeg follows the playlist across the loop wrap, the frames run 720..899 then 0..', async () => {
  // 29.5 s in: ffmpeg starts 3 segments from the live edge (VOD segments 11..13, frames from
  // 660) and must wait for segment 14 and then the wrap (segment 0 of the second loop).
  const start = Date.now() - 29_500;
  const url = `${base}/__live/start=${start},window=10/${S}/hls-ts/234p/index.m3u8`;
  const w = 64, h = 36;
  const spawned = (Date.now() - start) / 1000;
  const { stdout, stderr } = await run('ffmpeg', ['-v', 'warning', '-i', url, '-map', '0:v:0', '-t', '9',
    '-vf', `scale=${w}:${h}:flags=area,format=gray`, '-f', 'rawvideo', '-'], { encoding: 'buffer', maxBuffer: 64 << 20 });
  const frames = [];
  for (let off = 0; off + w * h <= stdout.length; off += w * h) {
    let n = 0;
    for (let b = 0; b < 16; b++) {
      const x = Math.floor(((b % 8) + 0.5) * w / 8), y = Math.floor((Math.floor(b / 8) + 0.5) * h / 2);
      if (stdout[off + y * w + x] > 128) n |= 1 << b;
    }
    frames.push(n);
  }
  // Runs of consecutive frame numbers, to tell a failure apart (a late start, a skipped
  // segment, a repeat) from the log alone.
  const runs = [];
  frames.forEach((n, i) => (i > 0 && n === frames[i - 1] + 1 ? runs.at(-1)[1] = n : runs.push([n, n])));
  console.log(`live HLS through ffmpeg: ${frames.length} frames, runs ${JSON.stringify(runs)}, spawned ${spawned.toFixed(2)} s into the live clock, done ${((Date.now() - start) / 1000).toFixed(2)} s${stderr.toString().trim() ? `; ffmpeg said: ${stderr.toString().trim().split('\n').slice(0, 8).join(' | ')}` : ''}`);
  assert.ok(frames.length >= 260, `${frames.length} frames`);
  assert.equal(frames[0] % 60, 0, 'starts on a segment boundary');
  const wrap = frames.indexOf(0);
  assert.ok(wrap > 0, 'the loop wrapped');
  frames.forEach((n, i) => assert.equal(n, i < wrap ? frames[0] + i : i - wrap, `frame ${i}`));
  assert.equal(frames[wrap - 1], 899);
});

test('live DASH: dynamic MPD, segments available with the clock, numbers wrap to the VOD', async () => {
  const start = Date.now() - 9000; // 9 s: segments 1..4 (ends 2, 4, 6, 8 s) are out
  const r = await get(`/__live/start=${start},window=12/${S}/dash-number/manifest.mpd`);
  assert.equal(r.status, 200);
  const mpd = r.body.toString();
  assert.match(mpd, /type="dynamic"/);
  assert.doesNotMatch(mpd, /mediaPresentationDuration|type="static"|contentType="text"/);
  assert.equal(Date.parse(/availabilityStartTime="([^"]+)"/.exec(mpd)[1]), start);
  assert.match(mpd, /timeShiftBufferDepth="PT12S"/);
  assert.match(mpd, /minimumUpdatePeriod="PT2S"/);
  assert.ok(Math.abs(Date.parse(/publishTime="([^"]+)"/.exec(mpd)[1]) - Date.now()) < 2000);
  const live = `/__live/start=${start}/${S}/dash-number`;
  assert.equal((await get(`${live}/chunk-stream0-00004.m4s`)).status, 200);
  assert.equal((await get(`${live}/chunk-stream0-00006.m4s`)).status, 404, 'a segment from the future');
  assert.equal((await get(`${live}/init-stream3.m4s`)).status, 200);
  // 100 s in: segment 50 is VOD segment 1 + (49 mod 15) = 5.
  const wrapped = await get(`/__live/start=${Date.now() - 100_000}/${S}/dash-number/chunk-stream2-00050.m4s`);
  assert.equal(wrapped.status, 200);
  assert.ok(wrapped.body.equals(file('dash-number/chunk-stream2-00005.m4s')));
  // SegmentTimeline: the window's segments, renumbered; 45 s in with a 20 s window the video
  // lists segments 13..22 (24..44 s: times count on across the loop), 23 is not there yet.
  const t45 = Date.now() - 45_000;
  const tl = await get(`/__live/start=${t45},window=20/${S}/dash-timeline/manifest.mpd`);
  assert.equal(tl.status, 200);
  const tlMpd = tl.body.toString();
  const rep0 = /<Representation id="0"[\s\S]*?<\/Representation>/.exec(tlMpd)[0];
  assert.match(rep0, /startNumber="13"/);
  const S0 = [...rep0.matchAll(/<S t="(\d+)" d="(\d+)"/g)].map((m) => [Number(m[1]) / 15360, Number(m[2]) / 15360]);
  assert.equal(S0.length, 10, JSON.stringify(S0));
  assert.deepEqual(S0[0], [24, 2]);
  assert.deepEqual(S0.at(-1), [42, 2]);
  const tlLive = `/__live/start=${t45},window=20/${S}/dash-timeline`;
  const seg22 = await get(`${tlLive}/chunk-stream0-00022.m4s`);
  assert.equal(seg22.status, 200);
  assert.ok(seg22.body.equals(file('dash-timeline/chunk-stream0-00007.m4s')), 'number 22 = VOD segment 1 + (21 mod 15)');
  assert.equal((await get(`${tlLive}/chunk-stream0-00023.m4s`)).status, 404, 'a timeline segment from the future');
  const list = await get(`/__live/-/${S}/dash-base/manifest.mpd`);
  assert.equal(list.status, 400, 'SegmentBase cannot be served live');
});

test('bandwidth cap: one 500 kB download at 250 kB/s takes 2 s ±20%; two concurrent ones share it', async () => {
  await control('bw', { rate: 250_000 });
  const one = await get(`/__s/bw/${S}/hls-fmp4/720p/seg5.m4s`, { headers: { Range: 'bytes=0-499999' } });
  assert.equal(one.bytes, 500_000);
  const rate = one.bytes / (one.ms / 1000);
  console.log(`one download: ${one.bytes} B in ${one.ms.toFixed(0)} ms = ${(rate / 1000).toFixed(1)} kB/s (cap 250)`);
  assert.ok(rate > 200_000 && rate < 300_000, `${rate} B/s`);
  const t0 = performance.now();
  const both = await Promise.all([0, 1].map((i) => get(`/__s/bw/${S}/hls-fmp4/720p/seg${6 + i}.m4s`, { headers: { Range: 'bytes=0-249999' } })));
  const ms = performance.now() - t0;
  const total = both.reduce((a, r) => a + r.bytes, 0);
  console.log(`two concurrent: ${total} B in ${ms.toFixed(0)} ms (each ${both.map((r) => r.ms.toFixed(0)).join(', ')} ms)`);
  assert.equal(total, 500_000);
  assert.ok(ms > 1600 && ms < 2400, `shared link: ${ms} ms for 500 kB`);
  // Fair share: each took about the whole time, not one after the other.
  for (const r of both) assert.ok(r.ms > 1500, `each download saw half the link: ${r.ms} ms`);
  await control('bw', { rate: null });
  const free = await get(`/__s/bw/${S}/hls-fmp4/720p/seg5.m4s`, { headers: { Range: 'bytes=0-499999' } });
  assert.ok(free.ms < 500, `no cap after rate: null (${free.ms} ms)`);
});

test('seeded 404 probability: the count the PRNG predicts, reproducible after re-seeding', async () => {
  const N = 200, p = 0.3, seed = 1234;
  await control('p404', { seed, status: { pattern: '/seg\\d+\\.ts$', code: 404, probability: p } });
  const statuses = async () => {
    const out = [];
    for (let i = 0; i < N; i++) out.push((await get(`/__s/p404/${S}/hls-ts/234p/seg${i % 15}.ts`, { method: 'HEAD' })).status);
    return out;
  };
  const first = await statuses();
  const rng = mulberry32(seed);
  const want = Array.from({ length: N }, () => (rng() < p ? 404 : 200));
  assert.deepEqual(first, want);
  const hits = first.filter((s) => s === 404).length;
  const sd = Math.sqrt(N * p * (1 - p));
  console.log(`404s: ${hits} of ${N} at p=${p} (expected ${N * p} ± ${sd.toFixed(1)})`);
  assert.ok(Math.abs(hits - N * p) < 3 * sd);
  // Paths the pattern does not match draw nothing and pass.
  assert.equal((await get(`/__s/p404/${S}/hls-ts/234p/index.m3u8`)).status, 200);
  await control('p404', { seed });
  assert.deepEqual(await statuses(), first, 'the same seed gives the same faults');
  const entries = await log('p404');
  assert.equal(entries.length, 2 * N + 1);
  assert.deepEqual(entries.slice(0, N).map((e) => e.status), first);
  assert.deepEqual(entries[0].faults.length ? entries[0].faults : [], first[0] === 404 ? ['status=404'] : []);
});

test('reset cuts the body after afterBytes (default: half); outage refuses, then recovers; the log says so', async () => {
  const seg = 'hls-fmp4/360p/seg2.m4s';
  const size = statSync(join(streams, seg)).size;
  await control('rst', { reset: { pattern: 'seg2\\.m4s$', afterBytes: 1000 } });
  const cut = await get(`/__s/rst/${S}/${seg}`);
  assert.equal(cut.status, 200);
  assert.equal(cut.bytes, 1000);
  assert.ok(cut.error, 'the client sees the connection end mid-body');
  assert.ok(cut.body.equals(file(seg).subarray(0, 1000)));
  await control('rst', { reset: { pattern: 'seg2\\.m4s$' } });
  const half = await get(`/__s/rst/${S}/${seg}`);
  assert.equal(half.bytes, Math.floor(size / 2));
  assert.ok(half.error);
  const other = await get(`/__s/rst/${S}/hls-fmp4/360p/seg3.m4s`);
  assert.equal(other.error, null);

  await control('rst', { reset: null, outage: { durationMs: 800 } });
  const down = await get(`/__s/rst/${S}/${seg}`);
  assert.equal(down.status, 0);
  assert.ok(down.error, 'no response during the outage');
  await new Promise((ok) => setTimeout(ok, 900));
  const up = await get(`/__s/rst/${S}/${seg}`);
  assert.equal(up.status, 200);
  assert.equal(up.bytes, size);

  const entries = await log('rst');
  const brief = entries.map(({ path, status, bytes, complete, faults }) => ({ path: path.replace(`/${S}/hls-fmp4/360p/`, ''), status, bytes, complete, faults }));
  assert.deepEqual(brief, [
    { path: 'seg2.m4s', status: 200, bytes: 1000, complete: false, faults: ['reset@1000'] },
    { path: 'seg2.m4s', status: 200, bytes: Math.floor(size / 2), complete: false, faults: [`reset@${Math.floor(size / 2)}`] },
    { path: 'seg3.m4s', status: 200, bytes: statSync(join(streams, 'hls-fmp4/360p/seg3.m4s')).size, complete: true, faults: [] },
    { path: 'seg2.m4s', status: 0, bytes: 0, complete: false, faults: ['outage'] },
    { path: 'seg2.m4s', status: 200, bytes: size, complete: true, faults: [] },
  ]);
  for (const e of entries) assert.ok(e.endMs >= e.startMs && e.startMs > Date.now() - 60_000, JSON.stringify(e));
  assert.equal(entries[0].range, null);
});

test('latency, stall and range show in the log; an outage cuts responses in flight', async () => {
  await control('st', { latencyMs: 150, stall: { pattern: 'seg4', ms: 400, afterBytes: 2000 } });
  const r = await get(`/__s/st/${S}/hls-ts/720p/seg4.ts`, { headers: { Range: 'bytes=0-99999' } });
  assert.equal(r.bytes, 100_000);
  assert.ok(r.firstByteMs >= 140, `latency before the headers: ${r.firstByteMs} ms`);
  assert.ok(r.ms >= 540, `latency + stall: ${r.ms} ms`);
  const [e] = await log('st');
  assert.equal(e.range, 'bytes=0-99999');
  assert.equal(e.status, 206);
  assert.deepEqual(e.faults, ['latency=150', 'stall=400@2000']);
  assert.ok(e.endMs - e.startMs >= 540);
  // A slow download, then an outage while it runs.
  await control('st', { clear: true, rate: 100_000 });
  const slow = get(`/__s/st/${S}/hls-ts/720p/seg5.ts`);
  await new Promise((ok) => setTimeout(ok, 500));
  await control('st', { outage: { durationMs: 300 } });
  const cut = await slow;
  assert.ok(cut.error && cut.bytes > 20_000 && cut.bytes < 100_000, `cut in flight after ${cut.bytes} B`);
});

test('the old /__fault/ prefix still works, also inside a session', async () => {
  const once = `/__fault/status=503,once/${S}/hls-fmp4/234p/seg1.m4s?u=${Date.now()}`;
  assert.equal((await get(once)).status, 503);
  assert.equal((await get(once)).status, 200);
  const drop = await get(`/__s/old/__fault/drop=20000/${S}/hls-fmp4/234p/seg1.m4s`, { headers: { Range: 'bytes=100-' } });
  assert.equal(drop.status, 206);
  assert.equal(drop.bytes, 20_000);
  assert.ok(drop.error);
  assert.ok(drop.body.equals(file('hls-fmp4/234p/seg1.m4s').subarray(100, 20_100)));
  const stall = await get(`/__fault/stall=300/${S}/hls-fmp4/234p/seg1.m4s`);
  assert.ok(stall.ms >= 290 && stall.error === null, `stall: ${stall.ms} ms`);
  const rate = await get(`/__fault/rate=100000/${S}/hls-fmp4/234p/seg1.m4s`, { headers: { Range: 'bytes=0-49999' } });
  assert.ok(rate.ms > 400 && rate.ms < 650 && rate.bytes === 50_000, `rate: 50 kB in ${rate.ms} ms at 100 kB/s`);
  const [entry] = await log('old');
  assert.deepEqual([entry.status, entry.bytes, entry.complete, entry.range], [206, 20_000, false, 'bytes=100-']);
  const bad = await fetch(`${base}/__control/old`, { method: 'POST', body: '{"status":{"code":99}}' });
  assert.equal(bad.status, 400);
  const badRe = await fetch(`${base}/__control/old`, { method: 'POST', body: '{"reset":{"pattern":"("}}' });
  assert.equal(badRe.status, 400);
});

/** Every .m3u8 and .mpd under streams/ (relative paths). */
function manifests(dir = streams) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'src' ? [] : manifests(p);
    return /\.(m3u8|mpd)$/.test(n) ? [relative(streams, p)] : [];
  });
}

test('ffprobe parses every generated playlist and MPD through the server, and the live ones', async () => {
  // ffmpeg's DASH demuxer reads no image AdaptationSet: an MPD of thumbnails alone has no
  // stream for it (Kinema's own reading of it: core/tests/manifests.rs, subtitles_sim.rs).
  const all = manifests().filter((m) => m !== 'dash-thumbs/images-only.mpd');
  assert.equal(all.length, 45, `manifests: ${all}`);
  const live = `__live/start=${Date.now() - 20_000},window=10`;
  const urls = [...all.map((m) => `${base}/${S}/${m}`),
    `${base}/${live}/${S}/hls-fmp4/master.m3u8`, `${base}/${live}/${S}/hls-ts/720p/index.m3u8`, `${base}/${live}/${S}/dash-number/manifest.mpd`];
  const counts = {};
  for (const url of urls) {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-allowed_extensions', 'ALL', '-show_entries', 'stream=codec_type', '-of', 'json', '-i', url]);
    const types = JSON.parse(stdout).streams.map((s) => s.codec_type[0]).sort().join('');
    assert.ok(types.length > 0, `${url}: no streams`);
    counts[url.replace(`${base}/`, '').replace(`${S}/`, '')] = types;
  }
  // Every rendition is there: v(ideo) a(udio) s(ubtitle) d(ata), in sorted letters (ffmpeg
  // 5.1's HLS demuxer skips SUBTITLES renditions of a multivariant playlist: their playlists
  // are probed on their own; it reads our wvtt segments as data streams, it has no decoder).
  const want = {
    'hls-fmp4/master.m3u8': 'aavvv', 'hls-ts/master.m3u8': 'aavvv', 'hls-byterange/master.m3u8': 'aav',
    'dash-timeline/manifest.mpd': 'aassvvv', 'dash-number/manifest.mpd': 'aassvvv', 'dash-base/manifest.mpd': 'aassvvv',
    'dash-base/manifest-list.mpd': 'aassvvv', 'dash-webm/manifest.mpd': 'aassvv', 'hls-fmp4/subs-de/index.m3u8': 's', 'hls-ts/subs-en/index.m3u8': 's',
    'hls-ts/720p/index.m3u8': 'v', 'hls-fmp4/audio-de/index.m3u8': 'a',
    'hls-ts-muxed/master.m3u8': 'aavv', 'hls-groups/master.m3u8': 'aavv', 'dash-audio-ladder/manifest.mpd': 'aavv',
    'dash-number/manifest-wvtt.mpd': 'aaddvvv',
    // The thumbnail set is not a stream to ffmpeg; text alone is two subtitle streams.
    'dash-thumbs/manifest.mpd': 'assv', 'dash-thumbs/text-only.mpd': 'ss',
    // AES-128 (scripts/streams.sh): ffmpeg fetches the keys through the server and decrypts.
    'hls-aes/ts/index.m3u8': 'av', 'hls-aes/fmp4/index.m3u8': 'av', 'hls-aes/ts-rotate/index.m3u8': 'av',
    'hls-aes/ts-seq/index.m3u8': 'av', 'hls-aes/ts-byterange/index.m3u8': 'av',
    [`${live}/hls-fmp4/master.m3u8`]: 'aavvv', [`${live}/dash-number/manifest.mpd`]: 'aavvv',
  };
  for (const [m, types] of Object.entries(want)) assert.equal(counts[m], types, m);
  console.log(`ffprobe parsed ${urls.length} manifests: ${JSON.stringify(counts)}`);
});

/** The frame index of an RGBA frame, as video.test.mjs reads it off the canvas. */
function blockCode(px, w, h) {
  let n = 0;
  for (let b = 0; b < 16; b++) {
    const x = Math.floor(((b % 8) + 0.5) * w / 8), y = Math.floor((Math.floor(b / 8) + 0.5) * h / 2);
    const i = (y * w + x) * 4;
    const luma = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
    if (luma > 128) n |= 1 << b;
  }
  return n;
}
async function frameIndex(url, { frame = 0, w, h, map = '0:v:0' }) {
  const manifest = /\.(m3u8|mpd)$/.test(url) ? ['-allowed_extensions', 'ALL'] : [];
  const { stdout } = await run('ffmpeg', ['-v', 'error', ...manifest, '-i', url, '-map', map,
    '-vf', `select=eq(n\\,${frame})`, '-vframes', '1', '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'], { encoding: 'buffer', maxBuffer: 64 << 20 });
  assert.equal(stdout.length, w * h * 4, `${url}: one ${w}x${h} frame`);
  return blockCode(stdout, w, h);
}

test('the block code reads back from decoded frames of the 720p and 234p rungs (HLS, DASH, TS, VP9)', async () => {
  /** @type {[path: string, opts: { frame?: number, w: number, h: number }, want: number][]} */
  const cases = [
    [`hls-fmp4/720p/index.m3u8`, { frame: 75, w: 1280, h: 720 }, 75],
    [`hls-fmp4/234p/index.m3u8`, { frame: 75, w: 416, h: 234 }, 75],
    [`hls-ts/234p/index.m3u8`, { frame: 131, w: 416, h: 234 }, 131],
    // A TS segment alone: segment k starts at frame 60k (GOP and segments exactly 2 s).
    [`hls-ts/234p/seg7.ts`, { w: 416, h: 234 }, 420],
    [`hls-ts/720p/seg14.ts`, { w: 1280, h: 720 }, 840],
    [`dash-number/manifest.mpd`, { frame: 47, w: 416, h: 234 }, 47],
    [`dash-webm/manifest.mpd`, { frame: 200, w: 416, h: 234 }, 200],
  ];
  for (const [path, opts, want] of cases) {
    const n = await frameIndex(`${base}/${S}/${path}`, opts);
    assert.equal(n, want, `${path}: frame reads ${n}`);
  }
});

test('the fixtures: ladder bitrates, 15 segments of 2 s per rendition, cues every 2 s', () => {
  const mv = file('hls-fmp4/master.m3u8').toString();
  for (const [res, kbit] of /** @type {[string, number][]} */ ([['416x234', 300], ['640x360', 800], ['1280x720', 2500]])) {
    assert.match(mv, new RegExp(`RESOLUTION=${res}`));
    const rung = { '416x234': '234p', '640x360': '360p', '1280x720': '720p' }[res];
    const dir = join(streams, 'hls-fmp4', rung);
    const bytes = readdirSync(dir).filter((f) => f.startsWith('seg')).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
    const rate = (bytes * 8) / 30 / 1000;
    assert.ok(Math.abs(rate - kbit) < kbit * 0.2, `${rung}: ${rate.toFixed(0)} kbit/s, want ~${kbit}`);
  }
  assert.match(mv, /TYPE=AUDIO,GROUP-ID="aud",NAME="Deutsch",LANGUAGE="de"/);
  assert.match(mv, /TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en"/);
  assert.match(mv, /CODECS="avc1\.64001f,mp4a\.40\.2"/);
  for (const kind of ['hls-fmp4', 'hls-ts']) {
    for (const r of ['234p', '360p', '720p', 'audio-en', 'audio-de', 'subs-en', 'subs-de']) {
      const pl = file(`${kind}/${r}/index.m3u8`).toString();
      const d = [...pl.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
      assert.equal(d.length, 15, `${kind}/${r}`);
      if (!r.startsWith('audio')) assert.ok(d.every((x) => x === 2), `${kind}/${r}: ${d}`);
      else assert.ok(d.every((x) => Math.abs(x - 2) < 0.03), `${kind}/${r}: ${d}`);
    }
  }
  const vtt = file('hls-ts/subs-en/seg1.vtt').toString();
  assert.match(vtt, /X-TIMESTAMP-MAP=MPEGTS:\d+,LOCAL:00:00:00.000/);
  assert.match(vtt, /00:00:01.000 --> 00:00:03.000\nCue 1 /);
  assert.match(vtt, /00:00:03.000 --> 00:00:05.000\nCue 2 /);
  const mpd = file('dash-base/manifest.mpd').toString();
  assert.match(mpd, /<SegmentBase indexRange="\d+-\d+"/);
  assert.match(mpd, /lang="de">\s*<Role schemeIdUri="urn:mpeg:dash:role:2011" value="dub"/);
  assert.match(mpd, /contentType="text" mimeType="text\/vtt" lang="en"/);
  // The sidx the SegmentBase points at.
  const [, a, b] = /indexRange="(\d+)-(\d+)"/.exec(mpd);
  assert.equal(file('dash-base/stream0.mp4').toString('latin1', Number(a) + 4, Number(a) + 8), 'sidx');
  assert.ok(existsSync(join(streams, 'dash-base/manifest-list.mpd')));
  void b;
});
