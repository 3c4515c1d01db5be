// The player on a page whose policy is `default-src 'self'; script-src 'self'
// 'wasm-unsafe-eval'` (csp.html): every violation the page sees is recorded for the tests.
// ?renderer=webgpu|webgl2|webgl1|2d|auto, ?decode=webcodecs|mse, ?src=URL.
window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  /** @type {string[]} */ (window.violations).push(`${e.effectiveDirective} refused ${e.blockedURI || '(inline)'}`);
});
const params = new URLSearchParams(location.search);
const wanted = params.get('renderer') ?? 'auto';
const { default: init, Player } = await import('./pkg/kinema_web.js');
await init();
const player = new Player();
// Passed through as the URL says: the player throws a TypeError for an unknown path.
if (params.has('decode')) player.setDecodePath(/** @type {import('./pkg/kinema_web.js').DecodePath | 'auto'} */ (params.get('decode')));
window.warnings = [];
player.addEventListener('warning', (e) => /** @type {import('./pkg/kinema_web.js').PlayerWarning[]} */ (window.warnings).push(e.detail));
// The casts: csp.html has these elements.
player.addEventListener('statechange', (e) => { /** @type {HTMLElement} */ (document.getElementById('state')).textContent = e.detail; });
const renderer = await player.attachCanvas(/** @type {HTMLCanvasElement} */ (document.getElementById('video')), wanted);
window.kinema = { player, renderer };
/** @type {HTMLElement} */ (document.getElementById('play')).addEventListener('click', () => { player.play().catch(() => {}); });
if (params.has('src')) player.load(/** @type {string} */ (params.get('src'))).catch(() => {});
document.body.dataset.ready = '1';
