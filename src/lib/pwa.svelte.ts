/**
 * Service worker registration and the "update available" state (vite-plugin-pwa, registerType
 * 'prompt'). The service worker precaches the app shell and the search worker; the large files
 * (onnxruntime-web's wasm, the tokenizer, index and encoder files) are downloaded once and stored by
 * the search worker itself, not by the service worker (see vite.config.ts).
 *
 * Importing this module registers nothing: `pwa.start()` does (UpdatePrompt calls it on mount). It is
 * skipped, without an error, where service workers are unavailable and when the URL has `?sw=0` (an
 * escape hatch for debugging: it does not unregister a worker that is already installed).
 */

type UpdateSW = (reloadPage?: boolean) => Promise<void>;

/** How long the "ready to work offline" notice stays up unless dismissed. */
export const OFFLINE_NOTICE_MS = 8_000;
/** How often a tab left open asks the server for a new version (navigations check anyway). */
export const UPDATE_CHECK_MS = 60 * 60 * 1_000;

export type PwaStatus = 'idle' | 'skipped' | 'registering' | 'registered' | 'error';

/** True when the page's query asks to run without the service worker (`?sw=0`). */
export function swDisabledByUrl(search: string): boolean {
  return new URLSearchParams(search).get('sw') === '0';
}

/** True when this page can and may register the service worker. */
export function canRegister(): boolean {
  if (typeof window === 'undefined' || typeof navigator === 'undefined') return false;
  if (!('serviceWorker' in navigator) || !navigator.serviceWorker) return false;
  return !swDisabledByUrl(window.location.search);
}

export class PwaManager {
  /** A new version is installed and waiting; the user may reload into it. */
  needRefresh = $state(false);
  /** The app shell is cached: the app now works offline (shown briefly after the first install). */
  offlineReady = $state(false);
  /** Set while `update()` waits for the new version to take over and reload the page. */
  updating = $state(false);
  status = $state<PwaStatus>('idle');

  #updateSW: Promise<UpdateSW | null> | null = null;
  #registration: ServiceWorkerRegistration | undefined;
  #offlineTimer: ReturnType<typeof setTimeout> | undefined;
  #checkTimer: ReturnType<typeof setInterval> | undefined;

  /** Registers the service worker once; later calls do nothing. */
  start(): void {
    if (this.status !== 'idle') return;
    if (!canRegister()) {
      this.status = 'skipped';
      return;
    }
    this.status = 'registering';
    this.#updateSW = import('virtual:pwa-register').then(
      ({ registerSW }) =>
        registerSW({
          onNeedRefresh: () => {
            this.offlineReady = false;
            this.needRefresh = true;
          },
          onOfflineReady: () => this.#showOfflineReady(),
          onRegisteredSW: (_url, registration) => {
            this.status = 'registered';
            this.#registration = registration;
            if (registration) this.#schedulePeriodicCheck(registration);
          },
          onRegisterError: (error: unknown) => {
            this.status = 'error';
            console.warn('Service worker registration failed; the app works online only.', error);
          },
        }),
      (error: unknown) => {
        this.status = 'error';
        console.warn('Service worker registration unavailable.', error);
        return null;
      },
    );
  }

  /** Activates the waiting version; the page reloads into it once it has taken control. */
  async update(): Promise<void> {
    if (this.updating) return;
    this.updating = true;
    const updateSW = await this.#updateSW;
    if (!updateSW || (this.#registration && !this.#registration.waiting)) {
      // Nothing waiting any more (another tab already switched over): a reload picks up the new version.
      window.location.reload();
      return;
    }
    // Reload as soon as the new worker controls this page. workbox-window reloads only when its
    // own "controlling" event says the change was an update, which it does not when the first
    // install already claimed the page (clientsClaim).
    navigator.serviceWorker.addEventListener('controllerchange', () => window.location.reload(), { once: true });
    await updateSW(true);
  }

  /** Hides the notices ("Later"); the update prompt comes back on the next visit or newer version. */
  dismiss(): void {
    this.needRefresh = false;
    this.offlineReady = false;
    clearTimeout(this.#offlineTimer);
  }

  /** Asks the server for a newer service worker now (e.g. from a test or a "check for updates" action). */
  async checkForUpdate(): Promise<void> {
    await this.#registration?.update();
  }

  /** Back to the initial state (tests). Does not unregister the service worker. */
  reset(): void {
    this.dismiss();
    clearInterval(this.#checkTimer);
    this.updating = false;
    this.status = 'idle';
    this.#updateSW = null;
    this.#registration = undefined;
  }

  #showOfflineReady(): void {
    if (this.needRefresh) return;
    this.offlineReady = true;
    clearTimeout(this.#offlineTimer);
    this.#offlineTimer = setTimeout(() => (this.offlineReady = false), OFFLINE_NOTICE_MS);
  }

  #schedulePeriodicCheck(registration: ServiceWorkerRegistration): void {
    clearInterval(this.#checkTimer);
    this.#checkTimer = setInterval(() => {
      if (!navigator.onLine || registration.installing) return;
      registration.update().catch(() => {
        // Offline or the server is down: the next check tries again.
      });
    }, UPDATE_CHECK_MS);
  }
}

export const pwa = new PwaManager();
