// Draws the core's on-screen controls (`controlschange` → ControlsView) as DOM over the video
// and turns pointer input (mouse, touch, Magic Remote) into `controlsActivate` /
// `controlsPoke`. It decides nothing: focus, menus and hiding come from the core, so the
// D-pad, a mouse and a finger all drive the same model.

const fmt = (s) => {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  const mm = String(m).padStart(h ? 2 : 1, '0'), ss = String(sec).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

const ICONS = { rewind: '⏪', playpause: '⏯', fastforward: '⏩', audio: '🔊', subtitles: 'CC', quality: 'HD' };

function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  parent?.appendChild(e);
  return e;
}

/**
 * Mounts the controls in `container` (positioned; the video canvas fills it).
 * `safeArea` insets them by that many percent (TV overscan). Returns `{ root, destroy }`.
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
  const byId = new Map();

  const update = () => {
    const t = player.currentTime, d = player.duration;
    time.textContent = fmt(t);
    const live = !Number.isFinite(d);
    total.textContent = live ? 'LIVE' : fmt(d);
    fill.style.width = live ? '100%' : `${Math.min(100, (100 * t) / (d || 1))}%`;
  };

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
      node.textContent = b.id === 'playpause' ? (v.paused ? '▶' : '⏸') : ICONS[b.id];
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

  const onView = (e) => render(e.detail);
  const onTime = () => { if (!root.hidden) update(); };
  const onMove = () => player.controlsPoke();
  // A tap on the video (not on a control) toggles like a click on play/pause would in a
  // desktop player, but first shows the bar if it is hidden.
  const onTap = (e) => {
    if (e.target !== container && !e.target.matches?.('canvas')) return;
    if (root.hidden) player.controlsPoke(); else player.controlsActivate('playpause');
  };
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
