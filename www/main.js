// The Kinema demo page: every control goes through the public Player API.
import init, { Player } from './pkg/kinema_web.js';

const $ = (id) => document.getElementById(id);
const fmt = (s) => {
  if (!Number.isFinite(s)) return '0:00';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
};

await init();
const player = new Player();
window.kinema = { player };

let dragging = false;
const ui = {
  time() {
    const d = player.duration;
    $('time').value = `${fmt(player.currentTime)} / ${fmt(d)}`;
    if (!dragging) $('seek').value = String(player.currentTime);
  },
  playing() {
    const on = !player.paused;
    $('play').textContent = on ? '❚❚' : '▶';
    $('play').setAttribute('aria-label', on ? 'Pause' : 'Play');
  },
};

player.addEventListener('statechange', (e) => {
  $('state').textContent = e.detail;
  if (e.detail !== 'error') $('error').hidden = true;
  ui.playing();
});
player.addEventListener('loadedmetadata', (e) => {
  const i = e.detail;
  $('info').textContent = `· ${i.container} / ${i.audioCodec}, ${i.sampleRate} Hz, ${i.channels} ch`;
  $('play').disabled = false;
  $('seek').disabled = false;
});
player.addEventListener('durationchange', (e) => { $('seek').max = String(e.detail); ui.time(); });
player.addEventListener('timeupdate', ui.time);
player.addEventListener('seeked', ui.time);
for (const t of ['play', 'pause', 'ended']) player.addEventListener(t, ui.playing);
player.addEventListener('volumechange', (e) => {
  $('mute').textContent = e.detail.muted ? 'Unmute' : 'Mute';
  $('mute').setAttribute('aria-pressed', String(e.detail.muted));
  $('volume').value = String(e.detail.volume);
});
player.addEventListener('error', (e) => {
  $('error').textContent = `${e.detail.kind}: ${e.detail.message}`;
  $('error').hidden = false;
});

async function play() {
  try {
    await player.play();
    $('unlock').hidden = true;
  } catch {
    // Autoplay refused until the user interacts with the page.
    $('unlock').hidden = false;
  }
}

function load(url, label) {
  $('now-playing').textContent = label ?? url;
  $('info').textContent = '';
  player.load(url);
  play();
}

$('play').addEventListener('click', () => (player.paused ? play() : player.pause()));
$('unlock').addEventListener('click', play);
$('seek').addEventListener('input', () => { dragging = true; $('time').value = `${fmt(Number($('seek').value))} / ${fmt(player.duration)}`; });
$('seek').addEventListener('change', () => { dragging = false; player.seek(Number($('seek').value)); });
$('volume').addEventListener('input', () => { player.volume = Number($('volume').value); });
$('mute').addEventListener('click', () => { player.muted = !player.muted; });
$('rate').addEventListener('change', () => { player.playbackRate = Number($('rate').value); });
$('loop').addEventListener('change', () => { player.loop = $('loop').checked; });
$('url-form').addEventListener('submit', (e) => { e.preventDefault(); load($('url').value); });
$('file').addEventListener('change', () => {
  const f = $('file').files?.[0];
  if (f) load(URL.createObjectURL(f), f.name);
});
document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement && e.target.type !== 'range') return;
  if (e.target instanceof HTMLSelectElement) return;
  if (e.key === ' ') { e.preventDefault(); player.paused ? play() : player.pause(); }
  else if (e.key === 'ArrowLeft') { e.preventDefault(); player.seek(Math.max(0, player.currentTime - 5)); }
  else if (e.key === 'ArrowRight') { e.preventDefault(); player.seek(player.currentTime + 5); }
});
setInterval(() => { $('audio-mode').textContent = player.stats().audioMode ?? 'starting'; }, 1000);

document.body.dataset.ready = '1';
load('media/sample.m4a');
