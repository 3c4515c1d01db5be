// The live generator of scripts/serve-live.mjs as a co-process, for the Rust sim tests
// (kinema_testkit::LiveGen, core/tests/stream_live.rs): they get their live playlists, MPDs
// and segment availability from the same code the test server runs, at a time they pass in.
// Deterministic: this never reads the clock. One process serves any number of requests.
//
// Usage: node scripts/live-gen.mjs, then one JSON request a line on stdin:
//   {"now": EPOCH_MS, "spec": "start=EPOCH_MS,window=S[,speed=X][,end=S]", "paths": ["FILE", …][, "prefix": "/x"]}
// `spec` is the <spec> of a /__live/<spec>/ URL, but start= is required (no server start time
// here); each of `paths` is a file a URL names (a VOD .m3u8 or .mpd, or a segment beside an
// MPD): several at once save round trips; `prefix` goes before root-relative URIs (default
// none). For each path, in order, the answer on stdout is a line `KIND LENGTH` followed by
// LENGTH bytes, KIND one of:
//   body     the live playlist or MPD (its text)
//   segment  a live DASH segment available now: the file that serves it (a number past the
//            VOD wraps to the VOD's file)
//   file     not live content: the file as it is (`path`)
//   404      a live DASH segment that is not available yet (the server's message)
//   400      the spec or the manifest cannot be served live (the server's message)
//   500      a bug in the generator (the stack)
// A line that is not such a request gets one answer, `error` (the message), whatever it holds.
// The process ends when stdin closes.
import { createInterface } from 'node:readline';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LiveError, parseLiveSpec, liveAnswer } from './serve-live.mjs';

/** File texts and directory MPDs, read once: the VOD files do not change during a test. */
const texts = new Map();
const read = (/** @type {string} */ f) => {
  if (!texts.has(f)) texts.set(f, readFileSync(f, 'utf8'));
  return texts.get(f);
};
const isFile = new Map();
const exists = (/** @type {string} */ f) => {
  if (!isFile.has(f)) {
    let ok = false;
    try { ok = statSync(f).isFile(); } catch { /* no such file */ }
    isFile.set(f, ok);
  }
  return isFile.get(f);
};
const mpdTexts = new Map();
const dirMpds = (/** @type {string} */ dir) => {
  if (!mpdTexts.has(dir)) {
    let names = [];
    try { names = readdirSync(dir).filter((n) => n.endsWith('.mpd')); } catch { /* no such directory */ }
    mpdTexts.set(dir, names.map((n) => read(join(dir, n))));
  }
  return mpdTexts.get(dir);
};

/**
 * The answer for `path` at `now`: [KIND, payload].
 * @param {string} path
 * @param {ReturnType<typeof parseLiveSpec>} live
 * @param {number} now
 * @param {string} prefix
 * @returns {[string, string]}
 */
function answer(path, live, now, prefix) {
  try {
    const got = liveAnswer(path, exists(path) ? () => read(path) : null, () => dirMpds(dirname(path)), live, now, prefix);
    if (got?.body !== undefined) return ['body', got.body];
    if (got?.notYet) return ['404', `live segment ${basename(path)} is not available yet`];
    if (got?.file) return ['segment', join(dirname(path), got.file)];
    return ['file', path];
  } catch (e) {
    if (e instanceof LiveError) return ['400', e.message];
    return ['500', String(e?.stack ?? e)];
  }
}

/**
 * The answers to one request line, one for each of its paths (one `error` for a bad line).
 * @param {string} line
 * @returns {[string, string][]}
 */
function answers(line) {
  let req;
  try { req = JSON.parse(line); } catch (e) { return [['error', e.message]]; }
  const paths = req?.paths;
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string') || typeof req.spec !== 'string' || !Number.isFinite(req.now)) {
    return [['error', 'a request is {"now": EPOCH_MS, "spec": "start=…", "paths": ["FILE", …]}']];
  }
  let live;
  try { live = parseLiveSpec(req.spec, null); } catch (e) { return paths.map(() => ['400', e.message]); }
  if (live.start === null) return paths.map(() => ['400', 'the spec needs start=EPOCH_MS (this process has no clock)']);
  return paths.map((p) => answer(p, live, req.now, req.prefix ?? ''));
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  const out = answers(line).map(([kind, payload]) => {
    const bytes = Buffer.from(payload, 'utf8');
    return Buffer.concat([Buffer.from(`${kind} ${bytes.length}\n`), bytes]);
  });
  process.stdout.write(Buffer.concat(out));
}
