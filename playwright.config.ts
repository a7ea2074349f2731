import { defineConfig } from '@playwright/test';

// Debian's Chromium (apt-get install chromium); Playwright cannot download its own browsers here.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const quiet = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// WebGPU through SwiftShader (a CPU Vulkan): correct but slow — never judge speed by it.
const webgpu = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
];
const PORT = 4173;

export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results/artifacts',
  timeout: 120_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['./test/hostile/tableReporter.ts']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    // Tests intercept requests with page.route, which a service worker would bypass; offline tests
    // opt in with test.use({ serviceWorkers: 'allow' }).
    serviceWorkers: 'block',
  },
  projects: [
    {
      name: 'webgpu',
      use: { browserName: 'chromium', launchOptions: { executablePath, args: [...quiet, ...webgpu] } },
    },
    {
      name: 'wasm',
      use: { browserName: 'chromium', launchOptions: { executablePath, args: [...quiet, '--disable-webgpu'] } },
    },
    {
      // `npm run test:hostile`: the hostile-input suite (test/hostile), with its table of outcomes.
      name: 'hostile',
      testDir: 'test/hostile',
      use: { browserName: 'chromium', launchOptions: { executablePath, args: [...quiet, '--disable-webgpu'] } },
    },
  ],
  webServer: {
    // The test build admits the cross-origin index hosts of deploy.spec.ts (4176 with CORS, 4177
    // without) and clip-loading's stand-in model hub (4176); the worker refuses every other host.
    command: `MODEL_SEARCH_CONNECT_SRC="http://127.0.0.1:4176 http://127.0.0.1:4177" npx vite build && npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
