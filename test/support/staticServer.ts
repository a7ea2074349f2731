// The browser tests' static server lives in tools/lib (the first-visit bench uses it too).
export { startStaticServer, type StaticServer, type StaticServerOptions } from '../../tools/lib/staticServer.ts';
