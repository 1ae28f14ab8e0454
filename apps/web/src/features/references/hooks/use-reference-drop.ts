import { useEffect, useRef, useState, type DragEvent } from 'react';
import { z } from 'zod';
import { IMAGE_DRAG_TYPE } from '../rules';
import type { AddReferences } from './use-add-references';

const draggedImageSchema = z.object({ id: z.string(), thumbnailUrl: z.string(), name: z.string() });

function carriesReferences(data: DataTransfer): boolean {
  return data.types.includes('Files') || data.types.includes(IMAGE_DRAG_TYPE);
}

/**
 * Makes an element (the generate panel) accept references: files dropped from the desktop, history images
 * dragged from the grid, and images pasted anywhere in the studio. A file dropped anywhere else on the page
 * is ignored rather than opened by the browser, which would leave the studio.
 */
export function useReferenceDrop(add: AddReferences, isEnabled: boolean) {
  const [isOver, setOver] = useState(false);
  const addRef = useRef(add);
  addRef.current = add;

  useEffect(() => {
    if (!isEnabled) return;
    const ignoreStray = (event: globalThis.DragEvent) => {
      if (event.defaultPrevented || !event.dataTransfer?.types.includes('Files')) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'none';
    };
    const onPaste = (event: ClipboardEvent) => {
      if (document.querySelector('dialog[open]')) return;
      const files = Array.from(event.clipboardData?.files ?? []).filter((f) => f.type.startsWith('image/'));
      if (files.length === 0) return; // text pastes as usual
      event.preventDefault();
      addRef.current.addFiles(files);
    };
    document.addEventListener('dragover', ignoreStray);
    document.addEventListener('drop', ignoreStray);
    document.addEventListener('paste', onPaste);
    return () => {
      document.removeEventListener('dragover', ignoreStray);
      document.removeEventListener('drop', ignoreStray);
      document.removeEventListener('paste', onPaste);
    };
  }, [isEnabled]);

  const handlers = {
    onDragEnter: (event: DragEvent) => {
      if (!carriesReferences(event.dataTransfer)) return;
      event.preventDefault();
      setOver(true);
    },
    onDragOver: (event: DragEvent) => {
      if (!carriesReferences(event.dataTransfer)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
      setOver(true);
    },
    onDragLeave: (event: DragEvent) => {
      // Leaving for a child of the panel is not leaving the panel.
      if (event.relatedTarget instanceof Node && event.currentTarget.contains(event.relatedTarget)) return;
      setOver(false);
    },
    onDrop: (event: DragEvent) => {
      if (!carriesReferences(event.dataTransfer)) return;
      event.preventDefault();
      setOver(false);
      const image = event.dataTransfer.getData(IMAGE_DRAG_TYPE);
      if (image) {
        try {
          const parsed = draggedImageSchema.safeParse(JSON.parse(image));
          if (parsed.success) addRef.current.addImage(parsed.data);
        } catch {
          /* not ours */
        }
        return;
      }
      addRef.current.addFiles(Array.from(event.dataTransfer.files));
    },
  };

  return { isOver, handlers };
}
