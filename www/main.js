// The Kinema demo page: every control goes through the public Player API.
// Tests use window.kinema.player and wait for document.body.dataset.ready === '1'.
// Renderer: ?renderer=webgpu|webgl2|webgl1|2d forces one; by default the package decides ('auto':
// WebGPU when the browser has an adapter, else WebGL2, else WebGL1, else a 2D canvas).
// Video decoding: ?decode=mse|webcodecs|auto (default auto: WebCodecs when present, else a
// hidden <video> fed through Media Source Extensions, for engines without WebCodecs).
// Output latency: ?latency=ignore|read|<seconds> (Player.setOutputLatency; default ignore).
// Package: ?package=streaming loads the streaming-only flavour (www/pkg-streaming: no software
// audio decoder, no wgpu; scripts/build-web.sh) instead of the default www/pkg.
const params = new URLSearchParams(location.search);
const wanted = params.get('renderer') ?? 'auto';
const flavour = params.get('package') === 'streaming' ? './pkg-streaming/kinema_web.js' : './pkg/kinema_web.js';
const { default: init, Player } = /** @type {typeof import('./pkg/kinema_web.js')} */ (await import(flavour));

/**
 * The page's elements by id (index.html), with their element types.
 * @typedef {{
 *   'now-playing': HTMLElement, video: HTMLCanvasElement, overlay: HTMLElement, play: HTMLButtonElement,
 *   seek: HTMLInputElement, time: HTMLOutputElement, mute: HTMLButtonElement, volume: HTMLInputElement,
 *   rate: HTMLSelectElement, loop: HTMLInputElement, stats: HTMLInputElement, 'stream-controls': HTMLElement,
 *   quality: HTMLSelectElement, 'audio-track': HTMLSelectElement, 'stream-line': HTMLOutputElement,
 *   'text-controls': HTMLElement, 'text-track': HTMLSelectElement, 'cue-line': HTMLOutputElement,
 *   'stream-chart': HTMLCanvasElement, unlock: HTMLButtonElement, state: HTMLElement, info: HTMLElement,
 *   buffered: HTMLElement, error: HTMLElement, 'url-form': HTMLFormElement, url: HTMLInputElement,
 *   'stream-pick': HTMLSelectElement, file: HTMLInputElement, 'audio-mode': HTMLElement, preview: HTMLElement,
 * }} PageElements
 */
/** @type {<K extends keyof PageElements>(id: K) => PageElements[K]} */
const $ = (id) => /** @type {any} */ (document.getElementById(id));
/** @param {number} s */
const fmt = (s) => {
  if (!Number.isFinite(s) || s < 0) return '0:00';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
};
/** @param {string} text */
const showError = (text) => {
  $('error').textContent = text;
  $('error').hidden = false;
};

/** @type {import('./pkg/kinema_web.js').Player} */
let player;
try {
  await init();
  player = new Player();
  // Passed through as the URL says: the player throws a TypeError for an unknown path.
  if (params.has('decode')) player.setDecodePath(/** @type {import('./pkg/kinema_web.js').DecodePath | 'auto'} */ (params.get('decode')));
  const latency = params.get('latency');
  if (latency !== null) player.setOutputLatency(latency === 'ignore' || latency === 'read' ? latency : Number(latency));
} catch (/** @type {any} */ e) {
  // No package built, or the .wasm failed to instantiate: say so on the page and to tests.
  showError(`The player could not start: ${e?.message ?? e}. Build it with: bash scripts/build-web.sh`);
  document.body.dataset.ready = 'error';
  throw e;
}
window.kinema = { player };

// Video: the canvas's drawing size follows its CSS size × devicePixelRatio.
const canvas = $('video');
function fitCanvas() {
  const r = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(r.width * dpr));
  const h = Math.max(1, Math.round(r.height * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
    player.redraw();
  }
}
fitCanvas();
const renderer = await player.attachCanvas(canvas, wanted);
window.kinema.renderer = renderer;
new ResizeObserver(fitCanvas).observe(canvas);
matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener('change', fitCanvas);

let dragging = false; // the user is moving the seek bar: timeupdate must not fight them
let wantPlay = false; // play was asked for (by the page on load, the user or a script)
let lastLoad = 0; // performance.now() of the last load()

function showTime(t = player.currentTime) {
  const d = player.duration;
  $('time').value = `${fmt(t)} / ${fmt(d)}`;
  $('seek').setAttribute('aria-valuetext', `${fmt(t)} of ${fmt(d)}`);
  if (!dragging) $('seek').value = String(t);
}
function showPlaying() {
  const on = !player.paused;
  $('play').textContent = on ? 'Pause' : 'Play';
  $('play').setAttribute('aria-label', on ? 'Pause' : 'Play');
}

player.addEventListener('statechange', (e) => {
  $('state').textContent = e.detail;
  if (e.detail !== 'error') $('error').hidden = true;
  if (e.detail === 'playing' && !mutedForAutoplay) $('unlock').hidden = true;
  showPlaying();
});
player.addEventListener('loadstart', () => {
  $('info').textContent = '';
  $('buffered').textContent = '';
  $('seek').max = '0';
  showTime(0);
});
player.addEventListener('loadedmetadata', (e) => {
  const i = e.detail;
  const video = i.videoCodec ? `${i.videoCodec} ${i.width}×${i.height} ${i.frameRate.toFixed(2)} fps, ` : '';
  const audio = i.audioCodec ? `${i.audioCodec}, ${i.sampleRate} Hz, ${i.channels} ch` : 'no audio';
  $('info').textContent = `· ${i.container} / ${video}${audio}`;
  $('play').disabled = false;
  $('seek').disabled = false;
  if (Number.isFinite(i.duration)) $('seek').max = String(i.duration);
  showTime();
});
player.addEventListener('durationchange', (e) => {
  if (Number.isFinite(e.detail)) $('seek').max = String(e.detail);
  showTime();
});
player.addEventListener('timeupdate', () => showTime());
player.addEventListener('seeked', () => showTime());
player.addEventListener('progress', (e) => {
  const { bufferedBytes, totalBytes } = e.detail ?? {};
  if (totalBytes > 0) $('buffered').textContent = `· buffered ${Math.round((100 * bufferedBytes) / totalBytes)}%`;
});
for (const t of ['play', 'pause', 'ended']) player.addEventListener(t, showPlaying);
player.addEventListener('play', () => { wantPlay = true; });
player.addEventListener('pause', () => { wantPlay = false; $('unlock').hidden = true; });
player.addEventListener('ended', () => { wantPlay = false; });
player.addEventListener('volumechange', (e) => {
  $('mute').textContent = e.detail.muted ? 'Unmute' : 'Mute';
  $('mute').setAttribute('aria-pressed', String(e.detail.muted));
  $('volume').value = String(e.detail.volume);
});
player.addEventListener('ratechange', (e) => { $('rate').value = String(e.detail); });
player.addEventListener('error', (e) => {
  wantPlay = false;
  showError(`${e.detail.kind}: ${e.detail.message}`);
});

// Autoplay: when the browser refuses sound before the viewer's first click, the sample plays
// muted (a muted player autoplays, like a muted <video>) and "Click for sound" unmutes it.
let mutedForAutoplay = false;
function offerSound() {
  $('unlock').textContent = mutedForAutoplay ? 'Click for sound' : 'Click to play';
  $('unlock').hidden = false;
}
async function play() {
  wantPlay = true;
  try {
    await player.play();
    if (!mutedForAutoplay) $('unlock').hidden = true;
  } catch (/** @type {any} */ e) {
    if (e?.name === 'NotAllowedError' && !player.muted) {
      mutedForAutoplay = true;
      player.muted = true;
      offerSound();
      player.play().catch(() => {});
    } else if (e?.name !== 'AbortError' && wantPlay) {
      offerSound();
    }
  }
}
const toggle = () => (player.paused ? play() : player.pause());

// If a requested play has not started after a few seconds (the promise never settled, the state
// is stuck, or the state says playing but the clock does not move: a suspended audio output),
// offer the click the browser may be waiting for.
let lastT = -1;
let lastMove = 0;
setInterval(() => {
  const now = performance.now();
  const t = player.currentTime;
  if (t !== lastT || player.state !== 'playing') { lastT = t; lastMove = now; }
  const stuck = ['idle', 'paused'].includes(player.state) || now - lastMove > 3000;
  if (wantPlay && stuck && now - lastLoad > 4000) offerSound();
}, 1000);

/**
 * @param {string} url
 * @param {string} [label]
 */
function load(url, label) {
  lastLoad = performance.now();
  $('now-playing').textContent = label ?? url;
  $('error').hidden = true;
  player.load(url).catch(() => {}); // failures are shown by the `error` listener
  play();
}

$('play').addEventListener('click', toggle);
$('unlock').addEventListener('click', () => {
  $('unlock').hidden = true;
  if (mutedForAutoplay) {
    mutedForAutoplay = false;
    player.muted = false; // inside the click: the audio output may start now
  }
  play();
});
player.addEventListener('warning', (e) => console.info(`kinema warning (${e.detail.kind}): ${e.detail.message}`));
$('seek').addEventListener('input', () => {
  dragging = true;
  $('time').value = `${fmt(Number($('seek').value))} / ${fmt(player.duration)}`;
});
$('seek').addEventListener('change', () => {
  dragging = false;
  hidePreview();
  player.seek(Number($('seek').value));
});

// Seek preview: the thumbnail (a tile of the stream's thumbnail images, `player.thumbnail`) of
// the time under the pointer or the dragged thumb, above the seek bar. Nothing without images.
/** @param {number} t seconds @param {number} at pixels from the seek bar's left edge */
function showPreview(t, at) {
  const th = player.thumbnail(t, 256);
  const box = $('preview');
  if (!th) { box.hidden = true; return; }
  box.style.width = `${th.width}px`;
  box.style.height = `${th.height}px`;
  box.style.backgroundImage = `url("${th.url}")`;
  box.style.backgroundPosition = `${-th.x}px ${-th.y}px`;
  box.style.left = `${$('seek').offsetLeft + at}px`;
  box.dataset.time = String(t);
  box.hidden = false;
}
function hidePreview() { $('preview').hidden = true; }
$('seek').addEventListener('pointermove', (e) => {
  const r = $('seek').getBoundingClientRect();
  const d = Number($('seek').max);
  if (!(d > 0) || r.width <= 0) return;
  const x = Math.min(Math.max(e.clientX - r.left, 0), r.width);
  showPreview((x / r.width) * d, x);
});
$('seek').addEventListener('pointerleave', () => { if (!dragging) hidePreview(); });
$('seek').addEventListener('input', () => {
  const d = Number($('seek').max), t = Number($('seek').value);
  if (d > 0) showPreview(t, (t / d) * $('seek').clientWidth);
});
$('volume').addEventListener('input', () => { player.volume = Number($('volume').value); });
$('mute').addEventListener('click', () => {
  player.muted = !player.muted;
  if (!player.muted && mutedForAutoplay) { mutedForAutoplay = false; $('unlock').hidden = true; }
});
$('rate').addEventListener('change', () => { player.playbackRate = Number($('rate').value); });
$('loop').addEventListener('change', () => { player.loop = $('loop').checked; });
$('url-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = $('url').value.trim();
  if (url) load(url);
});
/** @type {string | null} */
let objectUrl = null;
$('file').addEventListener('change', () => {
  const f = $('file').files?.[0];
  if (!f) return;
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = URL.createObjectURL(f);
  load(objectUrl, f.name);
});

// Global keys, except where the focused control uses them itself: text fields and lists take
// every key, the volume slider takes the arrows, buttons and checkboxes take Space. On the seek
// bar the arrows seek 5 s too (its native step is 10 ms).
document.addEventListener('keydown', (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
  const el = e.target;
  const tag = el instanceof HTMLElement ? el.tagName : '';
  const type = el instanceof HTMLInputElement ? el.type : '';
  if (tag === 'TEXTAREA' || tag === 'SELECT' || /** @type {HTMLElement | null} */ (el)?.isContentEditable) return;
  if (tag === 'INPUT' && !['range', 'checkbox', 'button', 'submit'].includes(type)) return;
  const arrowsTaken = type === 'range' && el !== $('seek');
  const spaceTaken = tag === 'BUTTON' || ['checkbox', 'button', 'submit'].includes(type);
  if (e.key === ' ' && !spaceTaken) {
    e.preventDefault();
    toggle();
  } else if ((e.key === ',' || e.key === '.') && player.paused) {
    // Frame step: to the middle of the previous / next frame.
    const fps = player.mediaInfo?.frameRate || 30;
    const n = Math.floor(player.currentTime * fps + 1e-6) + (e.key === '.' ? 1 : -1);
    player.seek(Math.max(0, (n + 0.5) / fps));
  } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && !arrowsTaken) {
    e.preventDefault();
    const d = e.key === 'ArrowLeft' ? -5 : 5;
    const end = Number.isFinite(player.duration) ? player.duration : Infinity;
    player.seek(Math.min(end, Math.max(0, player.currentTime + d)));
  }
});
setInterval(() => { $('audio-mode').textContent = player.stats().audioMode ?? 'starting'; }, 1000);

// Stats overlay: decoder and scheduler counters, A/V offset, audio output.
$('stats').addEventListener('change', () => { $('overlay').hidden = !$('stats').checked; });
setInterval(() => {
  if ($('overlay').hidden) return;
  const v = player.videoStats();
  const a = player.stats();
  const i = player.mediaInfo;
  $('overlay').textContent = [
    i?.videoCodec ? `video ${i.videoCodec} ${i.width}×${i.height}` : 'no video',
    v ? `decoded ${v.decoded} presented ${v.presented} dropped ${v.dropped}` : '',
    v ? `A/V ${v.avOffsetMs.toFixed(1)} ms · in decoder ${v.inFlight} · queued ${v.queued} · held ${v.held}` : '',
    v ? `decode ${v.decodePath ?? '-'} · latency ${v.decodeLatencyMs.toFixed(1)} ms · skipped ${v.skipped}` : '',
    `renderer ${player.renderer} · audio ${a.audioMode ?? '-'} ${a.sampleRate} Hz · underruns ${a.underruns}`,
    `time ${player.currentTime.toFixed(3)} / ${fmt(player.duration)} · ${player.state}`,
  ].filter(Boolean).join('\n');
}, 250);

// Adaptive streams: quality and audio-track menus, live bitrate/throughput/buffer and a chart
// of the last minute (buffer seconds, throughput against the chosen bitrate).
/** @type {{ buffer: number, tput: number, bitrate: number }[]} */
const history = [];
/** @type {string | null} */
let menusFor = null;
function fillMenus() {
  const q = player.qualities;
  const a = player.audioTracks;
  $('stream-controls').hidden = q.length === 0;
  $('stream-chart').hidden = q.length === 0;
  const key = JSON.stringify([q, a]);
  if (key === menusFor) return;
  menusFor = key;
  $('quality').replaceChildren(new Option('Auto', '-1'), ...q.map((l) => new Option(`${l.name} · ${Math.round(l.bandwidth / 1000)} kbit/s`, String(l.index))));
  $('quality').value = String(player.manualQuality);
  $('audio-track').replaceChildren(...a.map((t) => new Option(`${t.name}${t.language ? ` (${t.language})` : ''}`, String(t.index))));
  $('audio-track').value = String(player.audioTrack);
  $('audio-track').disabled = a.length < 2;
}
// Subtitles: the stream's text tracks and side-loaded ones; the cue text is mirrored in a live
// region for screen readers (the display draws it over the video).
function fillTextMenu() {
  const t = player.textTracks;
  $('text-controls').hidden = t.length === 0;
  $('text-track').replaceChildren(new Option('Off', '-1'), ...t.map((x) => new Option(`${x.name}${x.language ? ` (${x.language})` : ''}`, String(x.index))));
  $('text-track').value = String(player.textTrack);
}
player.addEventListener('texttrackschange', fillTextMenu);
player.addEventListener('texttrackchange', fillTextMenu);
player.addEventListener('cuechange', (e) => { $('cue-line').textContent = e.detail.map((c) => c.text).join(' / '); });
player.addEventListener('texttrackerror', (e) => console.warn(`subtitle track ${e.detail.track}: ${e.detail.message}`));
$('text-track').addEventListener('change', () => { player.textTrack = Number($('text-track').value); });
$('quality').addEventListener('change', () => player.selectQuality(Number($('quality').value)));
$('audio-track').addEventListener('change', () => { player.audioTrack = Number($('audio-track').value); });
$('stream-pick').addEventListener('change', () => {
  const url = $('stream-pick').value;
  if (url) load(url);
});
player.addEventListener('loadstart', () => { history.length = 0; menusFor = null; });
function drawChart() {
  const c = $('stream-chart');
  const g = /** @type {CanvasRenderingContext2D} */ (c.getContext('2d'));
  g.clearRect(0, 0, c.width, c.height);
  if (history.length < 2) return;
  const maxBps = Math.max(...history.map((h) => Math.max(h.tput, h.bitrate)), 1);
  const maxBuf = Math.max(...history.map((h) => h.buffer), 10);
  /** @param {number} i */
  const x = (i) => (i / 239) * c.width;
  /**
   * @param {string} color
   * @param {(h: { buffer: number, tput: number, bitrate: number }) => number} f
   */
  const line = (color, f) => {
    g.strokeStyle = color;
    g.beginPath();
    history.forEach((h, i) => { const y = c.height - 2 - f(h) * (c.height - 4); if (i) g.lineTo(x(i), y); else g.moveTo(x(i), y); });
    g.stroke();
  };
  line('#7cc4ff', (h) => h.buffer / maxBuf);
  line('#9ccc65', (h) => h.tput / maxBps);
  line('#ffb74d', (h) => h.bitrate / maxBps);
  g.fillStyle = '#9aa0a6';
  g.font = '10px system-ui';
  g.fillText(`buffer (blue, max ${maxBuf.toFixed(0)} s) · throughput (green) · bitrate (orange), max ${(maxBps / 1e6).toFixed(1)} Mbit/s`, 4, 10);
}
setInterval(() => {
  const s = player.streamStats();
  if (!s) { $('stream-controls').hidden = true; $('stream-chart').hidden = true; return; }
  fillMenus();
  $('stream-line').value = `${(s.bitrate / 1000).toFixed(0)} kbit/s · throughput ${(s.throughputBps / 1e6).toFixed(1)} Mbit/s · buffer ${s.bufferSecs.toFixed(1)} s · switches ${s.switches}`;
  history.push({ buffer: s.bufferSecs, tput: Math.min(s.throughputBps, 50e6), bitrate: s.bitrate });
  if (history.length > 240) history.shift();
  drawChart();
}, 250);

document.body.dataset.ready = '1';
// No click yet (a fresh page load): start the sample muted, as video sites do, rather than
// ask the browser for sound it will refuse.
if (navigator.userActivation && !navigator.userActivation.hasBeenActive) {
  mutedForAutoplay = true;
  player.muted = true;
  offerSound();
}
load('media/sample.mp4');
