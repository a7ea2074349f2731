/**
 * The "Add your model" form's checks, before any work: which picked files go to the worker (in
 * code-point order of their names, as the builder orders a model folder), which are ignored and why,
 * and whether the metadata fits the index's limits. Pure: the dialog and its manager call it, tests
 * call it with plain objects.
 */
import { metadataOverLimit } from '../core/index/manifest.ts';
import type { AddModelInput } from '../shared/protocol.ts';

/** Fewer images than this cannot give a covariance: refused before any work. */
export const MIN_IMAGES = 2;
/** About this many samples per model give stable statistics (the paper behind this search). */
export const ADVISED_IMAGES = 100;

/**
 * File extensions that are obviously not images; such files are ignored without a word (the same
 * list as the builder's, tools/lib/indexBuilder/scan.ts).
 */
export const IGNORED_EXTENSIONS: ReadonlySet<string> = new Set([
  '.json', '.txt', '.md', '.markdown', '.yaml', '.yml', '.toml', '.csv', '.tsv', '.html', '.htm', '.log', '.pdf',
]);

/** What the form needs of a picked file (a `File`; tests pass plain objects). */
export interface PickedFile extends Blob {
  readonly name: string;
  /** `folder/name.png` for a folder pick (webkitdirectory), '' otherwise. */
  readonly webkitRelativePath?: string;
}

export interface AddFields {
  name: string;
  description: string;
  licence: string;
}

export interface PreparedAdd {
  /** The files to send, in code-point order of their names; empty when refused. */
  files: { name: string; blob: Blob }[];
  /** Why nothing can be added yet ('' when it can). */
  refusal: string;
  /** Things left out on purpose (sub-folders of a picked folder). */
  warnings: string[];
  /** Advice that does not stop the add (fewer images than advised). */
  hint: string;
  /** The folder's name for a folder pick (a default for the model's name), else ''. */
  folder: string;
}

/** Plain code-point order: the same on every machine and locale (as the builder's byCodePoint). */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/** Up to 5 names, then "and N more". */
function listSome(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `“${n}”`);
  return names.length > 5 ? `${shown.join(', ')} and ${names.length - 5} more` : shown.join(', ');
}

/**
 * The files of a pick or a drop, ready for the worker: hidden files and obviously-not-image
 * extensions dropped silently; from a folder pick only the files directly in it, with a warning that
 * names the sub-folders left out; sorted by name. The worker itself skips what it cannot decode and
 * duplicates, and says why.
 */
export function selectFiles(picked: readonly PickedFile[]): Pick<PreparedAdd, 'files' | 'warnings' | 'folder'> {
  const subfolders = new Set<string>();
  const kept: { name: string; blob: Blob }[] = [];
  let folder = '';
  for (const file of picked) {
    const parts = (file.webkitRelativePath ?? '').split('/').filter(Boolean);
    if (parts.length >= 2) {
      folder ||= parts[0];
      if (parts.length > 2) {
        subfolders.add(parts[1]);
        continue;
      }
    }
    const name = file.name;
    if (!name || name.startsWith('.') || IGNORED_EXTENSIONS.has(extension(name))) continue;
    kept.push({ name, blob: file });
  }
  kept.sort((a, b) => byCodePoint(a.name, b.name));
  const warnings = subfolders.size ? [`Only the images directly in “${folder}” are used; sub-folders were left out: ${listSome([...subfolders].sort(byCodePoint))}.`] : [];
  return { files: kept, warnings, folder };
}

/** The form's checks on the files and fields: whether an add can start, and the input to send. */
export function prepareAdd(picked: readonly PickedFile[], fields: AddFields): PreparedAdd & { input: AddModelInput | null } {
  const { files, warnings, folder } = selectFiles(picked);
  const name = fields.name.trim();
  const description = fields.description.trim();
  const licence = fields.licence.trim();
  let refusal = '';
  if (files.length === 0) refusal = picked.length ? 'None of these files is an image.' : 'Choose at least 2 images of what the model generates.';
  else if (files.length < MIN_IMAGES) refusal = `Add at least ${MIN_IMAGES} images: ${files.length === 1 ? 'one image is' : `${files.length} images are`} not enough to describe a model.`;
  const over = metadataOverLimit({ name, description, licence });
  if (!refusal && over) refusal = `The ${over} is too long: shorten it.`;
  const hint = !refusal && files.length < ADVISED_IMAGES ? `${files.length} images: about ${ADVISED_IMAGES} are advisable for stable statistics; fewer still work, with less certain results.` : '';
  const input: AddModelInput | null = refusal
    ? null
    : {
        files,
        ...(name || folder ? { name: name || folder } : {}),
        ...(description ? { description } : {}),
        ...(licence ? { licence } : {}),
      };
  return { files: refusal ? [] : files, refusal, warnings, hint, folder, input };
}
