import { describe, expect, it } from 'vitest';
import { METADATA_LIMITS } from '../core/index/manifest.ts';
import { ADVISED_IMAGES, prepareAdd, selectFiles, type PickedFile } from './addModelForm.ts';

const file = (name: string, webkitRelativePath = ''): PickedFile => Object.assign(new Blob([name]), { name, webkitRelativePath });
const FIELDS = { name: '', description: '', licence: '' };

describe('selectFiles', () => {
  it('sorts by code point (not locale), drops hidden files and non-image extensions silently', () => {
    const { files, warnings } = selectFiles([file('b.png'), file('B.png'), file('a.PNG'), file('notes.txt'), file('model.json'), file('.DS_Store'), file('ä.png'), file('10.png'), file('9.png')]);
    expect(files.map((f) => f.name)).toEqual(['10.png', '9.png', 'B.png', 'a.PNG', 'b.png', 'ä.png']);
    expect(warnings).toEqual([]);
  });

  it('a folder pick keeps its top-level files and names the sub-folders it left out', () => {
    const { files, warnings, folder } = selectFiles([file('2.png', 'mine/2.png'), file('1.png', 'mine/1.png'), file('x.png', 'mine/old/x.png'), file('y.png', 'mine/more/deep/y.png')]);
    expect(folder).toBe('mine');
    expect(files.map((f) => f.name)).toEqual(['1.png', '2.png']);
    expect(warnings).toEqual(['Only the images directly in “mine” are used; sub-folders were left out: “more”, “old”.']);
  });

  it('keeps unknown extensions for the worker to judge (it says why it skips one)', () => {
    expect(selectFiles([file('a.webp'), file('b'), file('c.heic')]).files.map((f) => f.name)).toEqual(['a.webp', 'b', 'c.heic']);
  });
});

describe('prepareAdd', () => {
  it('refuses fewer than 2 images before any work', () => {
    expect(prepareAdd([], FIELDS)).toMatchObject({ input: null, refusal: 'Choose at least 2 images of what the model generates.' });
    expect(prepareAdd([file('a.png')], FIELDS)).toMatchObject({ input: null, files: [], refusal: expect.stringMatching(/^Add at least 2 images: one image is not enough/) });
    expect(prepareAdd([file('a.png'), file('b.txt')], FIELDS).refusal).toMatch(/at least 2/);
    expect(prepareAdd([file('a.txt')], FIELDS).refusal).toBe('None of these files is an image.');
  });

  it('accepts 2 images with a hint below the advised count, none at it', () => {
    const two = prepareAdd([file('b.png'), file('a.png')], { name: ' Mine ', description: '', licence: 'CC0-1.0' });
    expect(two.refusal).toBe('');
    expect(two.hint).toMatch(/^2 images: about 100 are advisable/);
    expect(two.input).toEqual({ files: [expect.objectContaining({ name: 'a.png' }), expect.objectContaining({ name: 'b.png' })], name: 'Mine', licence: 'CC0-1.0' });
    const many = prepareAdd(Array.from({ length: ADVISED_IMAGES }, (_, i) => file(`${i}.png`)), FIELDS);
    expect(many.hint).toBe('');
    expect(many.input?.files).toHaveLength(ADVISED_IMAGES);
  });

  it('a folder pick names the model after its folder unless a name is given', () => {
    const picked = [file('1.png', 'Scarlet/1.png'), file('2.png', 'Scarlet/2.png')];
    expect(prepareAdd(picked, FIELDS).input?.name).toBe('Scarlet');
    expect(prepareAdd(picked, { ...FIELDS, name: 'Other' }).input?.name).toBe('Other');
    expect(prepareAdd([file('1.png'), file('2.png')], FIELDS).input).not.toHaveProperty('name');
  });

  it('refuses metadata over the index limits, naming the field', () => {
    const long = prepareAdd([file('a.png'), file('b.png')], { ...FIELDS, description: 'x'.repeat(METADATA_LIMITS.description + 1) });
    expect(long.input).toBeNull();
    expect(long.refusal).toBe(`The description of ${METADATA_LIMITS.description + 1} characters (limit ${METADATA_LIMITS.description}) is too long: shorten it.`);
    expect(prepareAdd([file('a.png'), file('b.png')], { ...FIELDS, name: 'n'.repeat(METADATA_LIMITS.name + 1) }).refusal).toMatch(/^The name of 301 characters/);
  });
});
