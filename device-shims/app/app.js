// The TV / set-top app every package wraps (scripts/package-devices.sh): a full-screen player
// with the core's on-screen controls, driven by the device's remote through the shim.
// `?src=URL` plays that instead of the bundled sample; `?device=NAME` forces a profile (the
// packages set it in <html data-kinema-profile>); `?renderer=` as on the demo page.
import { attachDevice } from './kinema/index.js';

const params = new URLSearchParams(location.search);
// The casts: index.html has the elements.
const $ = /** @type {(id: string) => HTMLElement} */ ((id) => document.getElementById(id));
const wanted = params.get('renderer') ?? 'auto';
/** @param {string} text */
const fail = (text) => {
  $('error').textContent = text;
  $('error').hidden = false;
  document.body.dataset.ready = 'error';
};

try {
  // TVs rarely have WebGPU (and headless engines present it poorly): WebGL2 is the default
  // (WebGL1 on old engines), the 2D canvas the fallback; WebGPU only when asked for. One
  // package draws them all.
  const { default: init, Player } = await import('./pkg/kinema_web.js');
  await init();
  const player = new Player();
  const canvas = /** @type {HTMLCanvasElement} */ ($('video'));
  const fit = () => {
    const r = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(r.width * dpr));
    canvas.height = Math.max(1, Math.round(r.height * dpr));
    player.setMaxVideoHeight?.(canvas.height);
  };
  fit();
  let renderer;
  try {
    renderer = await player.attachCanvas(canvas, wanted === 'auto' ? 'webgl2' : wanted);
  } catch (e) {
    if (wanted !== 'auto') throw e;
    renderer = await player.attachCanvas(canvas, '2d');
  }
  new ResizeObserver(() => { fit(); player.redraw?.(); }).observe(canvas);
  const baked = document.documentElement.dataset.kinemaProfile;
  const device = attachDevice(player, {
    container: $('stage'),
    // A name from the URL or the page, unchecked: detectProfile() detects for an unknown one.
    profile: /** @type {import('./kinema/index.js').ProfileName | 'auto'} */ (params.get('device') ?? (baked && baked !== 'auto' ? baked : 'auto')),
  });
  player.addEventListener('error', (e) => fail(`${e.detail.kind}: ${e.detail.message}`));
  window.kinema = { player, device, renderer };
  player.load(params.get('src') ?? 'media/sample.mp4').catch(() => {}); // shown by the error listener
  if (params.get('autoplay') !== '0') player.play().catch(() => {});
  document.body.dataset.ready = '1';
} catch (/** @type {any} */ e) {
  fail(`The player could not start: ${e?.message ?? e}`);
  throw e;
}
