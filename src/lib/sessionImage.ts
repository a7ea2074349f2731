/**
 * Image and sketch queries live in the tab's session (not the URL: they can be megabytes and are
 * private): restored after a reload, gone when the tab closes. Storage may be full or disabled
 * (private mode); then the query just isn't restored.
 */
const KEY = 'model-search:image-query';

export interface StoredImage {
  blob: Blob;
  name: string;
  source: 'file' | 'sketch';
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Saves the image; returns false when the session storage refused it. */
export async function saveSessionImage(image: StoredImage): Promise<boolean> {
  try {
    const data = toBase64(new Uint8Array(await image.blob.arrayBuffer()));
    sessionStorage.setItem(KEY, JSON.stringify({ name: image.name, source: image.source, type: image.blob.type, data }));
    return true;
  } catch {
    clearSessionImage();
    return false;
  }
}

export function loadSessionImage(): StoredImage | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (typeof v.data !== 'string' || typeof v.name !== 'string' || (v.source !== 'file' && v.source !== 'sketch')) return null;
    const type = v.type === 'image/png' ? 'image/png' : '';
    const bin = atob(v.data);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return { blob: new Blob([bytes], { type }), name: v.name.slice(0, 200), source: v.source };
  } catch {
    return null;
  }
}

export function clearSessionImage(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* storage disabled: nothing stored either */
  }
}
