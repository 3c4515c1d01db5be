// Draws the core's on-screen controls (`controlschange` → ControlsView) as DOM over the video
// and turns pointer input (mouse, touch, Magic Remote) into `controlsActivate` /
// `controlsPoke`. It decides nothing: focus, menus and hiding come from the core, so the
// D-pad, a mouse and a finger all drive the same model.

/** @typedef {import('../../www/pkg/kinema_web.js').Player} Player */
/** @typedef {import('../../www/pkg/kinema_web.js').ControlsView} ControlsView */

/** @param {number} s */
const fmt = (s) => {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  const mm = String(m).padStart(h ? 2 : 1, '0'), ss = String(sec).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

// Inline SVG icons: TV browsers often lack emoji and symbol fonts.
/** @param {string} d */
const svg = (d) => `<svg viewBox="0 0 24 24" width="1.2em" height="1.2em" aria-hidden="true" fill="currentColor"><path d="${d}"/></svg>`;
/** @type {Record<string, string>} */
const ICONS = {
  rewind: svg('M11 6v12l-8.5-6zM20.5 6v12L12 12z'),
  play: svg('M7 5v14l12-7z'),
  pause: svg('M6 5h4v14H6zM14 5h4v14h-4z'),
  fastforward: svg('M13 6v12l8.5-6zM3.5 6v12L12 12z'),
  audio: svg('M4 9v6h4l5 4V5L8 9zm12.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4z'),
  subtitles: svg('M3 5h18v14H3zm2 2v10h14V7zm1.5 3h5v1.5h-5zm6.5 0h4.5v1.5H13zm-6.5 3h3v1.5h-3zm4.5 0h6.5v1.5H11z'),
  quality: svg('M3 6h2v5h4V6h2v12H9v-5H5v5H3zm10 0h4.5a3.5 3.5 0 0 1 3.5 3.5v5a3.5 3.5 0 0 1-3.5 3.5H13zm2 2v8h2.5a1.5 1.5 0 0 0 1.5-1.5v-5A1.5 1.5 0 0 0 17.5 8z'),
};

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [cls]
 * @param {Element} [parent]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  parent?.appendChild(e);
  return e;
}

/**
 * Mounts the controls in `container` (positioned; the video canvas fills it).
 * `safeArea` insets them by that many percent (TV overscan). Returns `{ root, destroy }`.
 * @param {Player} player
 * @param {HTMLElement} container
 * @param {{ safeArea?: number }} [options]
 * @returns {{ root: HTMLElement, destroy(): void }}
 */
export function mountControls(player, container, { safeArea = 0 } = {}) {
  const root = el('div', 'kinema-controls', container);
  root.hidden = true;
  root.style.setProperty('--kinema-safe', `${safeArea}%`);
  root.setAttribute('role', 'group');
  root.setAttribute('aria-label', 'Player controls');
  const menu = el('div', 'kinema-menu', root);
  menu.setAttribute('role', 'menu');
  menu.hidden = true;
  const menuTitle = el('div', 'kinema-menu-title', menu);
  const menuList = el('ul', 'kinema-menu-items', menu);
  const bar = el('div', 'kinema-bar', root);
  const progress = el('div', 'kinema-progress', bar);
  const time = el('span', 'kinema-time', progress);
  const track = el('div', 'kinema-track', progress);
  const fill = el('div', 'kinema-fill', track);
  const total = el('span', 'kinema-time', progress);
  const buttons = el('div', 'kinema-buttons', bar);
  buttons.setAttribute('role', 'toolbar');
  /** @type {Map<string, HTMLButtonElement>} */
  const byId = new Map();

  const update = () => {
    const t = player.currentTime, d = player.duration;
    time.textContent = fmt(t);
    const live = !Number.isFinite(d);
    total.textContent = live ? 'LIVE' : fmt(d);
    fill.style.width = live ? '100%' : `${Math.min(100, (100 * t) / (d || 1))}%`;
  };

  /** @param {ControlsView} v */
  const render = (v) => {
    root.hidden = !v.visible;
    root.dataset.paused = v.paused ? '1' : '0';
    if (!v.visible) return;
    for (const b of v.buttons) {
      let node = byId.get(b.id);
      if (!node) {
        node = el('button', 'kinema-button', buttons);
        node.type = 'button';
        node.dataset.id = b.id;
        node.tabIndex = -1; // focus is the core's, not the browser's
        node.addEventListener('click', (e) => { e.stopPropagation(); player.controlsActivate(b.id); });
        byId.set(b.id, node);
      }
      node.innerHTML = b.id === 'playpause' ? (v.paused ? ICONS.play : ICONS.pause) : ICONS[b.id];
      node.title = b.label;
      node.setAttribute('aria-label', b.label);
      node.disabled = !b.enabled;
      node.classList.toggle('focused', b.focused);
      if (b.focused) node.setAttribute('aria-current', 'true'); else node.removeAttribute('aria-current');
    }
    menu.hidden = !v.menu;
    if (v.menu) {
      menu.dataset.kind = v.menu.kind;
      menuTitle.textContent = v.menu.title;
      menuList.replaceChildren(...v.menu.items.map((item, i) => {
        const li = el('li', 'kinema-item');
        li.setAttribute('role', 'menuitemradio');
        li.setAttribute('aria-checked', String(item.selected));
        li.textContent = item.label;
        li.classList.toggle('selected', item.selected);
        li.classList.toggle('focused', item.focused);
        li.addEventListener('click', (e) => { e.stopPropagation(); player.controlsActivate(i); });
        return li;
      }));
      // Under the menu's button.
      const anchor = byId.get(v.menu.kind);
      if (anchor) menu.style.left = `${anchor.offsetLeft}px`;
    }
    update();
  };

  /** @param {CustomEvent<ControlsView>} e */
  const onView = (e) => render(e.detail);
  const onTime = () => { if (!root.hidden) update(); };
  const onMove = () => player.controlsPoke();
  // A tap on the video (not on a control) toggles like a click on play/pause would in a
  // desktop player, but first shows the bar if it is hidden.
  /** @param {MouseEvent} e */
  const onTap = (e) => {
    if (e.target !== container && !/** @type {Element} */ (e.target).matches?.('canvas')) return;
    if (root.hidden) player.controlsPoke(); else player.controlsActivate('playpause');
  };
  /** @param {MouseEvent} e */
  const onSeekClick = (e) => {
    const d = player.duration;
    if (!Number.isFinite(d)) return;
    const r = track.getBoundingClientRect();
    player.seek(Math.max(0, Math.min(d, ((e.clientX - r.left) / r.width) * d)));
    player.controlsPoke();
  };
  player.addEventListener('controlschange', onView);
  player.addEventListener('timeupdate', onTime);
  player.addEventListener('seeked', onTime);
  container.addEventListener('pointermove', onMove);
  container.addEventListener('click', onTap);
  track.addEventListener('click', onSeekClick);
  return {
    root,
    destroy() {
      player.removeEventListener('controlschange', onView);
      player.removeEventListener('timeupdate', onTime);
      player.removeEventListener('seeked', onTime);
      container.removeEventListener('pointermove', onMove);
      container.removeEventListener('click', onTap);
      root.remove();
    },
  };
}
