// Kinema device shims: one entry point that adapts a page to the device it runs on.
//
//   import { attachDevice } from 'kinema/device-shims';
//   const device = attachDevice(player, { container, profile: 'tizen' /* or auto */ });
//
// What it does, and all it does (playback decisions stay in the core):
// - input: the device's key codes (remote, keyboard, media keys, gamepad) → `player.key(name)`;
//   keys registered with the platform where it needs that (Tizen, HbbTV keyset);
// - the on-screen controls: turns the core's controls on and draws them (ui/controls.js);
// - lifecycle: suspend when the app is hidden, resume when it is shown again (TV profiles);
//   Back that nothing used exits the app the platform's way;
// - capabilities: the profile's memory budget goes to the core's buffer budgets.
import { PROFILES, GAMEPAD_BUTTONS, detectProfile } from './profiles.js';
import { mountControls } from './ui/controls.js';

export { PROFILES, detectProfile };

// Types: index.d.ts declares this module's API (`import('./index.js')` below resolves to it), so
// the check compares this implementation with what the package promises.
/** @typedef {import('../www/pkg/kinema_web.js').KeyName} KeyName */
/** @typedef {import('../www/pkg/kinema_web.js').Player} AnyPlayer */

/**
 * Polls standard-mapping gamepads (Xbox and others) and sends their buttons as keys.
 * @param {(key: KeyName) => void} send
 * @returns {() => void} stops polling
 */
function pollGamepads(send) {
  const down = new Map();
  let raf = 0;
  const step = () => {
    raf = requestAnimationFrame(step);
    const pads = navigator.getGamepads?.() ?? [];
    for (const pad of pads) {
      if (!pad || pad.mapping !== 'standard') continue;
      const stick = [pad.axes[1] < -0.5, pad.axes[1] > 0.5, pad.axes[0] < -0.5, pad.axes[0] > 0.5];
      for (const [b, key] of Object.entries(GAMEPAD_BUTTONS)) {
        const id = `${pad.index}:${b}`;
        const i = Number(b); // an entry's key is the button index as a string
        const pressed = !!pad.buttons[i]?.pressed || (i >= 12 && i <= 15 && stick[i - 12]);
        if (pressed && !down.get(id)) send(key);
        down.set(id, pressed);
      }
    }
  };
  raf = requestAnimationFrame(step);
  return () => cancelAnimationFrame(raf);
}

/**
 * Adapts `player` to this device. `profile`: a name from PROFILES or `auto` (default:
 * `?device=` in the URL, else detection). `container`: the positioned element holding the
 * video canvas (the controls are drawn in it); `controls: false` keeps the app's own UI.
 * Returns `{ profile, registered, calls, detach() }`.
 * @param {AnyPlayer} player
 * @param {import('./index.js').AttachOptions} [options]
 * @returns {import('./index.js').AttachedDevice}
 */
export function attachDevice(player, { profile = 'auto', container = null, controls = true, suspendWhenHidden } = {}) {
  const forced = profile === 'auto' ? new URLSearchParams(location.search).get('device') : profile;
  /** @type {import('./profiles.js').ShimProfile} */
  const p = Object.create(detectProfile(forced));
  /** @type {(() => void)[]} */
  const cleanups = [];
  /**
   * @param {Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | AnyPlayer} target
   * @param {string} type
   * @param {(e: any) => void} fn
   * @param {AddEventListenerOptions} [opts]
   */
  const listen = (target, type, fn, opts) => {
    target.addEventListener(type, fn, opts);
    cleanups.push(() => target.removeEventListener(type, fn, opts));
  };
  /** @param {KeyName} key */
  const send = (key) => player.key(key);
  p.onKey = send;

  if (p.memoryMB) player.setMemoryBudget(p.memoryMB);
  const registered = p.setup();

  // Keys: the profile's map; text fields keep their keys.
  listen(document, 'keydown', (/** @type {KeyboardEvent} */ e) => {
    const t = e.target;
    if (t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const key = p.keyOf(e);
    if (!key) return;
    if (key === 'PlayPause' && e.key === ' ' && t instanceof HTMLButtonElement) return;
    e.preventDefault();
    player.key(key, true, e.repeat);
  });
  if (p.gamepad) cleanups.push(pollGamepads(send));

  // Back nothing used (no menu, no bar): leave the app the platform's way.
  listen(player, 'unhandledkey', (/** @type {CustomEvent<KeyName>} */ e) => { if (e.detail === 'Back') p.exit(); });

  /** @type {{ root: HTMLElement, destroy(): void } | null} */
  let ui = null;
  if (controls && container) {
    ui = mountControls(player, container, { safeArea: p.safeArea });
    player.controls = true;
    cleanups.push(() => { /** @type {NonNullable<typeof ui>} */ (ui).destroy(); player.controls = false; });
  }

  // Lifecycle: a TV app in the background must give its decoders and memory back.
  const suspendHidden = suspendWhenHidden ?? p.suspendWhenHidden;
  if (suspendHidden) {
    listen(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') player.suspend();
      else player.resume();
    });
    // webOS relaunches a running app with this event instead of a new page load.
    listen(document, 'webOSRelaunch', () => { if (player.suspended) player.resume(); });
  }
  if (p.pointer && container) {
    // Magic Remote: the pointer appearing shows the controls.
    listen(document, 'cursorStateChange', (/** @type {CustomEvent<{ visibility?: boolean } | null>} */ e) => { if (e.detail?.visibility) player.controlsPoke(); });
  }
  document.documentElement.dataset.kinemaDevice = p.name;
  return {
    profile: p.name,
    registered,
    ui,
    detach() { while (cleanups.length) /** @type {() => void} */ (cleanups.pop())(); },
  };
}
