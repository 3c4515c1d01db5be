// The player on a page whose policy is `default-src 'self'; script-src 'self'
// 'wasm-unsafe-eval'` (csp.html): every violation the page sees is recorded for the tests.
// ?renderer=webgpu|webgl2|2d|auto, ?decode=webcodecs|mse, ?src=URL.
window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.violations.push(`${e.effectiveDirective} refused ${e.blockedURI || '(inline)'}`);
});
const params = new URLSearchParams(location.search);
const wanted = params.get('renderer') ?? 'auto';
const pkg = wanted === 'webgl2' ? 'pkg-webgl' : 'pkg';
const { default: init, Player } = await import(`./${pkg}/kinema_web.js`);
await init();
const player = new Player();
if (params.has('decode')) player.setDecodePath(params.get('decode'));
window.warnings = [];
player.addEventListener('warning', (e) => window.warnings.push(e.detail));
player.addEventListener('statechange', (e) => { document.getElementById('state').textContent = e.detail; });
const renderer = await player.attachCanvas(document.getElementById('video'), wanted);
window.kinema = { player, renderer };
document.getElementById('play').addEventListener('click', () => { player.play().catch(() => {}); });
if (params.has('src')) player.load(params.get('src')).catch(() => {});
document.body.dataset.ready = '1';
