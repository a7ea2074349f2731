/**
 * Saves `parts` as a download through a temporary <a download>; the object URL is revoked a little
 * after the click is handled (some browsers read it after click() returns).
 */
export function saveFile(parts: BlobPart[], type: string, filename: string): void {
  const url = URL.createObjectURL(new Blob(parts, { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
