// Device profiles: how each device family's keys map onto Kinema's logical keys, how it asks
// for keys, exits, and what memory and safe area it has. Everything that decides playback is
// in the core; a profile is data plus the few platform calls a shim must make.
//
// Key codes are the platforms' documented values: Tizen TV (Samsung "TV remote control key
// codes": Back 10009, MediaPlayPause 10252, colour keys 403-406, registered through
// `tizen.tvinputdevice.registerKey`), webOS TV (LG: Back 461, media keys 412-417, colour
// 403-406), HbbTV/OIPF (`KeyEvent.VK_*`, read at run time because terminals define them;
// the fallbacks are the common values), browsers (`KeyboardEvent.key`, media keys).

/** @typedef {import('../www/pkg/kinema_web.js').KeyName} KeyName */
/** @typedef {import('./index.js').ProfileName} ProfileName */
/**
 * A profile as declared in index.d.ts, plus the state its own methods keep on it.
 * @typedef {import('./index.js').Profile & {
 *   onKey?: (key: KeyName) => void, onPop?: () => void, exiting?: boolean,
 *   codes?: Record<number, KeyName> | null,
 * }} ShimProfile
 */

/**
 * Logical keys of the browser keyboard and media keys, by `KeyboardEvent.key`.
 * @type {Record<string, KeyName>}
 */
const BROWSER_KEYS = {
  ArrowUp: 'Up', ArrowDown: 'Down', ArrowLeft: 'Left', ArrowRight: 'Right',
  Enter: 'Ok', Escape: 'Back', Backspace: 'Back', BrowserBack: 'Back', GoBack: 'Back',
  ' ': 'PlayPause', MediaPlayPause: 'PlayPause', MediaPlay: 'Play', MediaPause: 'Pause',
  MediaStop: 'Stop', MediaRewind: 'Rewind', MediaFastForward: 'FastForward',
  MediaTrackNext: 'Next', MediaTrackPrevious: 'Previous',
  AudioVolumeMute: 'Mute', AudioVolumeUp: 'VolumeUp', AudioVolumeDown: 'VolumeDown',
  ColorF0Red: 'Red', ColorF1Green: 'Green', ColorF2Yellow: 'Yellow', ColorF3Blue: 'Blue',
  Info: 'Info', ClosedCaptionToggle: 'Subtitle', Subtitle: 'Subtitle', AudioTrack: 'Audio',
  c: 'Subtitle', a: 'Audio', i: 'Info', m: 'Mute', k: 'PlayPause', j: 'Rewind', l: 'FastForward',
};
for (let d = 0; d <= 9; d++) BROWSER_KEYS[String(d)] = /** @type {KeyName} */ (`Digit${d}`);

/**
 * Codes every TV platform shares (arrows, OK, digits).
 * @type {Record<number, KeyName>}
 */
const COMMON_CODES = { 37: 'Left', 38: 'Up', 39: 'Right', 40: 'Down', 13: 'Ok' };
for (let d = 0; d <= 9; d++) COMMON_CODES[48 + d] = /** @type {KeyName} */ (`Digit${d}`);

/**
 * Samsung Tizen TV `keyCode`s, with the `tizen.tvinputdevice` names to register.
 * @type {Record<number, [KeyName, string | null]>}
 */
export const TIZEN_KEYS = {
  10009: ['Back', null], 10252: ['PlayPause', 'MediaPlayPause'], 415: ['Play', 'MediaPlay'],
  19: ['Pause', 'MediaPause'], 413: ['Stop', 'MediaStop'], 412: ['Rewind', 'MediaRewind'],
  417: ['FastForward', 'MediaFastForward'], 10233: ['Next', 'MediaTrackNext'],
  10232: ['Previous', 'MediaTrackPrevious'], 403: ['Red', 'ColorF0Red'],
  404: ['Green', 'ColorF1Green'], 405: ['Yellow', 'ColorF2Yellow'], 406: ['Blue', 'ColorF3Blue'],
  457: ['Info', 'Info'], 10221: ['Subtitle', 'Caption'], 10072: ['Audio', 'MTS'],
  447: ['VolumeUp', null], 448: ['VolumeDown', null], 449: ['Mute', null],
};
for (let d = 0; d <= 9; d++) TIZEN_KEYS[48 + d] = [/** @type {KeyName} */ (`Digit${d}`), String(d)];

/**
 * LG webOS TV `keyCode`s.
 * @type {Record<number, KeyName>}
 */
export const WEBOS_KEYS = {
  461: 'Back', 415: 'Play', 19: 'Pause', 413: 'Stop', 412: 'Rewind', 417: 'FastForward',
  403: 'Red', 404: 'Green', 405: 'Yellow', 406: 'Blue', 457: 'Info', 460: 'Subtitle',
  1056: 'Audio', 33: 'Next', 34: 'Previous',
};

/**
 * HbbTV `KeyEvent` constant names → logical keys (codes come from the terminal).
 * @type {Record<string, KeyName>}
 */
export const HBBTV_VK = {
  VK_UP: 'Up', VK_DOWN: 'Down', VK_LEFT: 'Left', VK_RIGHT: 'Right', VK_ENTER: 'Ok',
  VK_BACK: 'Back', VK_PLAY: 'Play', VK_PAUSE: 'Pause', VK_PLAY_PAUSE: 'PlayPause',
  VK_STOP: 'Stop', VK_REWIND: 'Rewind', VK_FAST_FWD: 'FastForward', VK_TRACK_NEXT: 'Next',
  VK_TRACK_PREV: 'Previous', VK_RED: 'Red', VK_GREEN: 'Green', VK_YELLOW: 'Yellow',
  VK_BLUE: 'Blue', VK_INFO: 'Info', VK_SUBTITLE: 'Subtitle',
};
for (let d = 0; d <= 9; d++) HBBTV_VK[`VK_${d}`] = /** @type {KeyName} */ (`Digit${d}`);
/**
 * Common terminal values, used when a `KeyEvent` constant is missing.
 * @type {Record<string, number>}
 */
const HBBTV_FALLBACK = {
  VK_UP: 38, VK_DOWN: 40, VK_LEFT: 37, VK_RIGHT: 39, VK_ENTER: 13, VK_BACK: 461, VK_PLAY: 415,
  VK_PAUSE: 19, VK_PLAY_PAUSE: 402, VK_STOP: 413, VK_REWIND: 412, VK_FAST_FWD: 417,
  VK_TRACK_NEXT: 425, VK_TRACK_PREV: 424, VK_RED: 403, VK_GREEN: 404, VK_YELLOW: 405,
  VK_BLUE: 406, VK_INFO: 457, VK_SUBTITLE: 460,
};
for (let d = 0; d <= 9; d++) HBBTV_FALLBACK[`VK_${d}`] = 48 + d;
/** OIPF `Keyset` bits (OIPF DAE 7.2.5): what an HbbTV app asks the terminal to deliver. */
export const KEYSET = { RED: 0x1, GREEN: 0x2, YELLOW: 0x4, BLUE: 0x8, NAVIGATION: 0x10, VCR: 0x20, SCROLL: 0x40, INFO: 0x80, NUMERIC: 0x100, ALPHA: 0x200, OTHER: 0x400 };

/**
 * Xbox / standard-mapping gamepad buttons → logical keys (W3C Gamepad "standard" layout).
 * @type {Record<number, KeyName>}
 */
export const GAMEPAD_BUTTONS = {
  0: 'Ok', 1: 'Back', 2: 'Subtitle', 3: 'Audio', 4: 'Rewind', 5: 'FastForward',
  8: 'Info', 9: 'PlayPause', 12: 'Up', 13: 'Down', 14: 'Left', 15: 'Right',
};

/** @returns {OipfApplication | null} the HbbTV app object (types/browser.d.ts), or null */
function oipfApp() {
  /** @type {OipfApplicationManager | null} */
  const mgr = document.querySelector('object[type="application/oipfApplicationManager"]');
  try { return mgr?.getOwnerApplication?.(document) ?? null; } catch { return null; }
}

/**
 * The profiles. `keyOf(event)` gives the logical key of a `keydown`; `setup()` asks the
 * platform for the keys; `exit()` is what Back at the top level does; `memoryMB` feeds the
 * core's byte budgets (`null`: defaults); `safeArea` is the inset, in percent, that TV
 * overscan may hide; `suspendWhenHidden` releases decoders when the app is backgrounded.
 * (A cast, not a declared type: `xbox`, a copy of `browser`, is added below.)
 */
export const PROFILES = /** @type {Record<ProfileName, ShimProfile>} */ ({
  browser: {
    name: 'browser', memoryMB: null, safeArea: 0, suspendWhenHidden: false, gamepad: true,
    keyOf: (e) => BROWSER_KEYS[e.key] ?? null,
    setup() {
      // Media keys and headset buttons arrive through the Media Session API in browsers.
      const ms = navigator.mediaSession;
      if (!ms?.setActionHandler) return [];
      const bound = [];
      for (const [action, key] of /** @type {[MediaSessionAction, KeyName][]} */ ([['play', 'Play'], ['pause', 'Pause'], ['stop', 'Stop'], ['seekbackward', 'Rewind'], ['seekforward', 'FastForward'], ['nexttrack', 'Next'], ['previoustrack', 'Previous']])) {
        try { ms.setActionHandler(action, () => this.onKey?.(key)); bound.push(action); } catch { /* not supported here */ }
      }
      return bound;
    },
    exit() {},
  },
  tizen: {
    name: 'tizen', memoryMB: 256, safeArea: 5, suspendWhenHidden: true, gamepad: false,
    keyOf: (e) => TIZEN_KEYS[e.keyCode]?.[0] ?? COMMON_CODES[e.keyCode] ?? null,
    setup() {
      const input = window.tizen?.tvinputdevice;
      if (!input) return [];
      const names = /** @type {string[]} */ (Object.values(TIZEN_KEYS).map(([, n]) => n).filter(Boolean));
      let supported = null;
      try { supported = new Set(input.getSupportedKeys().map((k) => k.name)); } catch { /* older firmware */ }
      const registered = [];
      for (const n of names) {
        if (supported && !supported.has(n)) continue;
        try { input.registerKey(n); registered.push(n); } catch { /* key not on this remote */ }
      }
      return registered;
    },
    exit() {
      try { window.tizen?.application?.getCurrentApplication().exit(); } catch { /* not on a TV */ }
    },
  },
  webos: {
    name: 'webos', memoryMB: 192, safeArea: 5, suspendWhenHidden: true, gamepad: false,
    pointer: true,
    keyOf: (e) => WEBOS_KEYS[e.keyCode] ?? COMMON_CODES[e.keyCode] ?? null,
    setup() {
      // Apps packaged with "disableBackHistoryAPI": false get Back as history navigation,
      // not key 461: keep one entry of our own on the history stack and turn its popping
      // into Back.
      history.pushState({ kinema: 'back-guard' }, '');
      this.onPop = () => {
        if (this.exiting) return;
        history.pushState({ kinema: 'back-guard' }, '');
        this.onKey?.('Back');
      };
      window.addEventListener('popstate', this.onPop);
      return ['history'];
    },
    exit() {
      // webOS: Back at the top level returns to the launcher (webOSTV.js), else history.
      this.exiting = true;
      // (onPop is unset if setup() never ran: removing `undefined` does nothing.)
      window.removeEventListener('popstate', /** @type {() => void} */ (this.onPop));
      if (window.webOS?.platformBack) window.webOS.platformBack();
      else window.history.go(-2);
    },
  },
  hbbtv: {
    name: 'hbbtv', memoryMB: 64, safeArea: 5, suspendWhenHidden: false, gamepad: false,
    codes: null,
    keyOf(e) {
      if (!this.codes) {
        this.codes = {};
        const ke = window.KeyEvent ?? {};
        for (const [vk, key] of Object.entries(HBBTV_VK)) this.codes[ke[vk] ?? HBBTV_FALLBACK[vk]] = key;
      }
      return this.codes[e.keyCode] ?? null;
    },
    setup() {
      const app = oipfApp();
      if (!app) return [];
      const mask = KEYSET.RED | KEYSET.GREEN | KEYSET.YELLOW | KEYSET.BLUE | KEYSET.NAVIGATION | KEYSET.VCR | KEYSET.INFO | KEYSET.NUMERIC;
      try { app.privateData.keyset.setValue(mask); } catch { /* terminal refused */ }
      try { app.show(); } catch { /* already visible */ }
      return [mask];
    },
    exit() {
      try { oipfApp()?.destroyApplication(); } catch { /* not on a terminal */ }
    },
  },
});
PROFILES.xbox = { ...PROFILES.browser, name: 'xbox', safeArea: 5, gamepad: true };

/**
 * The profile for this engine: `forced` (e.g. `?device=tizen`) or what the page can see.
 * @param {string | null} [forced]
 * @returns {ShimProfile}
 */
export function detectProfile(forced) {
  if (forced && PROFILES[/** @type {ProfileName} */ (forced)]) return PROFILES[/** @type {ProfileName} */ (forced)];
  const ua = navigator.userAgent;
  if (window.tizen || /Tizen/.test(ua)) return PROFILES.tizen;
  if (window.webOS || window.PalmSystem || /Web0S|webOS/.test(ua)) return PROFILES.webos;
  if (window.oipfObjectFactory || /HbbTV/.test(ua)) return PROFILES.hbbtv;
  if (/Xbox/.test(ua)) return PROFILES.xbox;
  return PROFILES.browser;
}
