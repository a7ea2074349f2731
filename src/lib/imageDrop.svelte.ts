import { firstFile } from './imageInput.ts';

/** The parts of a drag event the drop target reads (tests pass plain objects). */
export type DragLike = Pick<DragEvent, 'dataTransfer' | 'preventDefault'>;
/** The parts of a paste event the drop target reads. */
export type PasteLike = Pick<ClipboardEvent, 'clipboardData' | 'preventDefault'>;

/**
 * The whole window as a drop target for image files, and pasting an image anywhere. Drags that
 * carry no files (text, links) and text pastes are left to the browser. `dragging` is true while
 * files are dragged over the page (enter/leave fire for every child element, hence the depth count).
 */
export class ImageDrop {
  private depth = $state(0);
  private readonly onimage: (file: File, name?: string) => void;

  /** `onimage` gets the first file of a drop or paste; `name` is set for pastes (which often have none). */
  constructor(onimage: (file: File, name?: string) => void) {
    this.onimage = onimage;
  }

  get dragging(): boolean {
    return this.depth > 0;
  }

  dragenter = (e: DragLike): void => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    this.depth++;
  };

  dragover = (e: DragLike): void => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  };

  dragleave = (e: DragLike): void => {
    if (hasFiles(e)) this.depth = Math.max(0, this.depth - 1);
  };

  drop = (e: DragLike): void => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    this.depth = 0;
    const file = firstFile(e.dataTransfer?.files);
    if (file) this.onimage(file);
  };

  paste = (e: PasteLike): void => {
    const file = firstFile(e.clipboardData?.files) ?? firstFile(e.clipboardData?.items);
    if (!file) return; // plain text pastes into the box as usual
    e.preventDefault();
    this.onimage(file, file.name || 'pasted image');
  };

  reset(): void {
    this.depth = 0;
  }
}

function hasFiles(e: DragLike): boolean {
  return !!e.dataTransfer?.types.includes('Files');
}
