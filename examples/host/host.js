// The example host page's script (plain browser JS, no build step; no inline script, so the page's
// strict Content-Security-Policy holds). It loads the <model-search> element from the search app's
// origin, places one on the page and shows, as text, what the element reports.

const DEFAULT_APP = 'http://127.0.0.1:4173/';
const MODEL_ID = 'scarlet-blossom-pixel-v1-e0234';
const THUMB = `index/demo/thumbs/${MODEL_ID}/0.webp`;

/** The deployed search app: `?app=` (an http(s) URL; a folder) or the default preview server. */
function appUrl() {
  const raw = new URLSearchParams(location.search).get('app');
  try {
    const url = new URL(raw || DEFAULT_APP, location.href);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    url.search = '';
    url.hash = '';
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return url;
  } catch {
    return new URL(DEFAULT_APP);
  }
}

const app = appUrl();
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const status = $('log-status');
const queryHeading = $('log-query');
const resultList = $('log-results');
const selected = $('log-selected');

$('model-thumb').src = new URL(THUMB, app).href;

// The element's code, from the app's origin (a module script, so that origin must send CORS headers).
const script = document.createElement('script');
script.type = 'module';
script.src = new URL('embed/model-search.js', app).href;
script.addEventListener('error', () => {
  status.textContent = `Could not load ${script.src}: is the search app running there?`;
  document.documentElement.dataset.hostState = 'script-error';
});
document.head.append(script);

// The element itself; it upgrades when the script above defines it.
const search = document.createElement('model-search');
search.setAttribute('src', app.href);
const index = params.get('index');
if (index) search.setAttribute('index', index);
// No height: the frame follows the height the app reports, so its results never scroll inside it.
$('embed-slot').append(search);

/** Replaces the list's items with one text line per result (never markup). */
function showResults(detail) {
  queryHeading.textContent = detail.query ? `Results for ${detail.query} (${detail.method})` : 'No query';
  const items = detail.results.map((r) => {
    const li = document.createElement('li');
    li.textContent = `${r.name} — ${r.creator || 'unknown creator'}, ${r.licence || 'no licence given'}`;
    li.dataset.modelId = r.id;
    return li;
  });
  resultList.replaceChildren(...items);
  document.documentElement.dataset.hostResults = String(items.length);
}

search.addEventListener('model-search:ready', (e) => {
  status.textContent = `Search ready: ${e.detail.models} models in “${e.detail.index}”.`;
  document.documentElement.dataset.hostState = 'ready';
});
search.addEventListener('model-search:results', (e) => showResults(e.detail));
search.addEventListener('model-search:select', (e) => {
  const m = e.detail.model;
  selected.textContent = `${m.name} (${m.id})`;
  selected.dataset.modelId = m.id;
});
search.addEventListener('model-search:error', (e) => {
  status.textContent = `The search reported an error (${e.detail.code}): ${e.detail.message}`;
});

// Methods exist once the element is defined; before that, attributes carry the query.
$('find-similar').addEventListener('click', () => {
  if (typeof search.moreLike === 'function') search.moreLike(MODEL_ID);
  else search.setAttribute('like', MODEL_ID);
  search.scrollIntoView({ behavior: 'smooth', block: 'start' });
});

$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('search-text').value.trim();
  if (!text) return;
  if (typeof search.search === 'function') search.search(text);
  else {
    search.removeAttribute('like');
    search.setAttribute('query', text);
  }
});

// "Upload your model": the picked files go to the embed as they are (likeImages reads and checks them).
const uploadStatus = $('upload-status');
$('upload-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const files = [...$('upload-files').files];
  if (!files.length) return;
  const name = $('upload-name').value.trim();
  if (typeof search.likeImages !== 'function') {
    uploadStatus.textContent = 'The search has not loaded yet: try again in a moment.';
    return;
  }
  uploadStatus.textContent = `Searching with ${files.length} image${files.length === 1 ? '' : 's'}…`;
  search.likeImages(files, name ? { name } : {}).then(
    () => {
      uploadStatus.textContent = `Sent ${files.length} image${files.length === 1 ? '' : 's'} to the search.`;
      search.scrollIntoView({ behavior: 'smooth', block: 'start' });
    },
    (err) => {
      uploadStatus.textContent = `Not searched: ${err instanceof Error ? err.message : String(err)}`;
    },
  );
});
