import { mount } from 'svelte';
import App from './App.svelte';
import { installDebugHooks } from './lib/debugHooks.ts';
import './app.css';

const app = mount(App, { target: document.getElementById('app')! });
// ?debug=1: window.modelSearchDebug for tests and bug reports (src/lib/debugHooks.ts).
installDebugHooks();

export default app;
