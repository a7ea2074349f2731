import { describe, expect, it, vi } from 'vitest';
import { ImageDrop, type DragLike, type PasteLike } from './imageDrop.svelte.ts';

/** A DataTransfer-like object: its files, and 'Files' among its types when it carries any. */
function transfer(files: File[], types = files.length ? ['Files'] : ['text/plain']) {
  return { types, files, items: files.map((f) => ({ kind: 'file', getAsFile: () => f })), dropEffect: 'none' } as unknown as DataTransfer;
}

function drag(dataTransfer: DataTransfer | null) {
  const e = { dataTransfer, preventDefault: vi.fn() };
  return e as DragLike & { preventDefault: ReturnType<typeof vi.fn> };
}

const image = (name = 'a.png') => new File(['x'], name, { type: 'image/png' });

describe('ImageDrop', () => {
  it('counts nested enter/leave pairs so the overlay stays up while files are over the page', () => {
    const drop = new ImageDrop(() => {});
    const dt = transfer([image()]);
    drop.dragenter(drag(dt));
    drop.dragenter(drag(dt)); // a child element
    drop.dragleave(drag(dt));
    expect(drop.dragging).toBe(true);
    drop.dragleave(drag(dt));
    expect(drop.dragging).toBe(false);
    drop.dragleave(drag(dt)); // never below zero
    drop.dragenter(drag(dt));
    expect(drop.dragging).toBe(true);
    drop.reset();
    expect(drop.dragging).toBe(false);
  });

  it('a drop hands over the first file, ends the drag, and claims the event', () => {
    const onimage = vi.fn();
    const drop = new ImageDrop(onimage);
    const dt = transfer([image('first.png'), image('second.png')]);
    const over = drag(dt);
    drop.dragenter(drag(dt));
    drop.dragover(over);
    expect(over.preventDefault).toHaveBeenCalled();
    expect(dt.dropEffect).toBe('copy');
    const e = drag(dt);
    drop.drop(e);
    expect(e.preventDefault).toHaveBeenCalled();
    expect(drop.dragging).toBe(false);
    expect(onimage).toHaveBeenCalledTimes(1);
    expect(onimage.mock.calls[0][0].name).toBe('first.png');
    expect(onimage.mock.calls[0][1]).toBeUndefined();
  });

  it('drags without files (text, links) are left to the browser', () => {
    const onimage = vi.fn();
    const drop = new ImageDrop(onimage);
    const e = drag(transfer([]));
    drop.dragenter(e);
    drop.dragover(e);
    drop.drop(e);
    expect(e.preventDefault).not.toHaveBeenCalled();
    expect(drop.dragging).toBe(false);
    expect(onimage).not.toHaveBeenCalled();
  });

  it('a pasted image is used (named when the clipboard gives no name); pasted text is not touched', () => {
    const onimage = vi.fn();
    const drop = new ImageDrop(onimage);
    const text = { clipboardData: transfer([]), preventDefault: vi.fn() };
    drop.paste(text as PasteLike);
    expect(text.preventDefault).not.toHaveBeenCalled();
    expect(onimage).not.toHaveBeenCalled();

    const unnamed = new File(['x'], '', { type: 'image/png' });
    const e = { clipboardData: transfer([unnamed]), preventDefault: vi.fn() };
    drop.paste(e as PasteLike);
    expect(e.preventDefault).toHaveBeenCalled();
    expect(onimage).toHaveBeenCalledWith(unnamed, 'pasted image');
    drop.paste({ clipboardData: transfer([image('shot.png')]), preventDefault() {} } as PasteLike);
    expect(onimage).toHaveBeenLastCalledWith(expect.any(File), 'shot.png');
  });
});
