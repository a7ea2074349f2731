import { defineConfig } from 'vitest/config';
import { build, type Plugin, type ResolvedConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { cspPlugin } from './tools/vite/csp.ts';
import { ortWasmPlugin } from './tools/vite/ortWasm.ts';
import { allowedHosts } from './src/shared/policy.ts';
import { readSiteDefaults } from './src/shared/siteDefaults.ts';

// Matches --bg in src/app.css (light); index.html carries the light/dark theme-color pair.
const BACKGROUND = '#f7f7f5';

/** The embed element (a framework-free custom element): one self-contained file under a stable,
 * unhashed name that other sites link to. */
const EMBED_ENTRY = 'src/embed/modelSearchElement.ts';
const EMBED_FILE = 'embed/model-search.js';

/**
 * The hosts the app may read from besides its own origin (src/shared/policy.ts): the CSP is
 * generated from this list (tools/vite/csp.ts) and the same list is compiled into the search
 * worker, which refuses any other host itself (a meta tag's policy does not reach workers).
 */
const CONNECT_HOSTS = allowedHosts(process.env.MODEL_SEARCH_CONNECT_SRC);

/** The site's default index and model host (MODEL_SEARCH_DEFAULT_INDEX, MODEL_SEARCH_MODEL_HOST); a bad value fails the build. */
const SITE_DEFAULTS = readSiteDefaults(process.env, CONNECT_HOSTS);

/**
 * Builds the embed script as its own bundle after the app is written (and before the service worker
 * is generated, so it is precached like the rest). A second entry of the app build would share
 * modules with the app (src/embed/protocol.ts is also used by the app's embed bridge), and the
 * stable file would then import a hashed chunk that the next deploy deletes.
 */
function embedScript(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'model-search-embed',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    async writeBundle() {
      await build({
        configFile: false,
        root: config.root,
        mode: config.mode,
        logLevel: 'warn',
        publicDir: false,
        build: {
          outDir: config.build.outDir,
          emptyOutDir: false,
          target: config.build.target,
          minify: true,
          sourcemap: config.build.sourcemap,
          lib: { entry: EMBED_ENTRY, formats: ['es'], fileName: () => EMBED_FILE },
        },
      });
    },
  };
}

export default defineConfig({
  // Relative base: the built site works from any sub-path of a static host.
  base: './',
  plugins: [
    svelte(),
    cspPlugin(CONNECT_HOSTS),
    ortWasmPlugin(),
    embedScript(),
    VitePWA({
      // The app asks before reloading into a new version (src/lib/pwa.svelte.ts + UpdatePrompt).
      registerType: 'prompt',
      // Registered from app code (virtual:pwa-register), which also honours ?sw=0.
      injectRegister: false,
      // The icons are already matched by globPatterns; listing them twice only duplicates entries.
      includeManifestIcons: false,
      manifest: {
        name: 'Model Search',
        short_name: 'Model Search',
        description: 'Search generative image models by the content they generate, in your browser.',
        start_url: './',
        scope: './',
        display: 'standalone',
        theme_color: BACKGROUND,
        background_color: BACKGROUND,
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The app shell: pages, scripts (the search worker included), styles, icons.
        globPatterns: ['**/*.{js,mjs,css,html,svg,png,json,txt}'],
        // The large files are downloaded once, by the search worker, which stores them itself
        // (IndexedDB, checksum-verified) and shows their progress: onnxruntime-web's wasm (14 MB
        // without WebGPU, 27 MB with it: tools/vite/ortWasm.ts; not matched by globPatterns), the
        // tokenizers, and the index and encoder files (versioned by their own manifests). Precaching
        // any of them would download it a second time on the first visit. embed.json is the
        // operator's origin allowlist: always read fresh from the host.
        globIgnores: ['index/**', 'encoders/**', 'tokenizers/**', 'embed.json'],
        // Navigations (with any query, e.g. ?index=…&q=…) get the precached shell; the query is
        // read by the app. Direct navigations to data files still go to the network.
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^[^?]*\/(?:index|encoders|tokenizers|icons|embed|assets)\//, /^[^?]*\/sw\.js$/],
        cleanupOutdatedCaches: true,
        // The first install takes control of the open page at once (so thumbnails seen on the first
        // visit are cached too). Updates still wait: no skipWaiting, the user chooses "Reload".
        clientsClaim: true,
        runtimeCaching: [
          {
            // Result thumbnails (index/<name>/thumbs/**), kept once seen so results render offline.
            urlPattern: ({ url, sameOrigin }) => sameOrigin && url.pathname.includes('/thumbs/'),
            handler: 'CacheFirst',
            options: {
              cacheName: 'model-search-thumbs-v1',
              expiration: { maxEntries: 2000, maxAgeSeconds: 30 * 24 * 60 * 60, purgeOnQuotaError: true },
              // 200 only: never pin an error page or a partial response as a thumbnail.
              cacheableResponse: { statuses: [200] },
            },
          },
        ],
      },
      devOptions: { enabled: false },
    }),
  ],
  // Read by workers/download.ts (the worker's own policy check) and src/lib/urlState.ts (the site's
  // defaults); also defined for the app and the tests.
  define: { __MODEL_SEARCH_CONNECT_HOSTS__: JSON.stringify(CONNECT_HOSTS), __MODEL_SEARCH_SITE_DEFAULTS__: JSON.stringify(SITE_DEFAULTS) },
  // onnxruntime-web ships its own wasm loader; pre-bundling breaks its asset URLs.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // The worker bundle gets its own plugins: it imports virtual:ort-wasm.
  worker: { format: 'es', plugins: () => [ortWasmPlugin()] },
  // The embed script (dist/embed/model-search.js) is built by embedScript() above.
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
  server: { port: 5173, strictPort: true },
  preview: { port: 4173, strictPort: true },
  test: {
    include: ['src/**/*.test.ts', 'workers/**/*.test.ts', 'test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
  },
});
