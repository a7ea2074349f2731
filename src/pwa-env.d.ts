// Types for vite-plugin-pwa's `virtual:pwa-register` (the framework-free register used by src/lib/pwa.svelte.ts).
/// <reference types="vite-plugin-pwa/vanillajs" />
