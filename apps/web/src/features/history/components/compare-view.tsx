import { useRef, useState, type CSSProperties, type KeyboardEvent, type PointerEvent } from 'react';
import type { Image } from '@atelier/contracts';
import './compare-view.css';

export interface CompareSide {
  image: Image;
  /** "v1", "v3 (this)". */
  label: string;
  alt: string;
}

interface CompareViewProps {
  /** Drawn on the left of the divider (the earlier version, usually). */
  before: CompareSide;
  /** Drawn on the right: the generation the detail shows. */
  after: CompareSide;
  mode: 'slider' | 'side';
  /** Width / height of the shared frame; by default the `after` image's. */
  ratio?: number;
}

const clamp = (n: number) => Math.min(100, Math.max(0, n));

/**
 * Two versions in one frame. The frame takes the shown image's proportions and both images are fitted
 * inside it (contain), so versions of different sizes line up instead of one being cropped. In slider
 * mode the earlier one covers the left part up to a divider that follows the pointer and the arrow keys.
 */
export function CompareView({ before, after, mode, ratio = after.image.width / after.image.height }: CompareViewProps) {
  const [position, setPosition] = useState(50);
  const frame = useRef<HTMLDivElement>(null);

  const moveTo = (clientX: number) => {
    const rect = frame.current?.getBoundingClientRect();
    if (!rect || rect.width === 0) return;
    setPosition(clamp(((clientX - rect.left) / rect.width) * 100));
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    moveTo(event.clientX);
    frame.current?.querySelector<HTMLElement>('[role="slider"]')?.focus({ preventScroll: true });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.shiftKey ? 10 : 2;
    const moves: Record<string, (p: number) => number> = {
      ArrowLeft: (p) => p - step,
      ArrowDown: (p) => p - step,
      ArrowRight: (p) => p + step,
      ArrowUp: (p) => p + step,
      PageDown: (p) => p - 10,
      PageUp: (p) => p + 10,
      Home: () => 0,
      End: () => 100,
    };
    const move = moves[event.key];
    if (!move) return;
    // The detail uses ←/→ for the previous and next image: here they move the divider instead.
    event.preventDefault();
    event.stopPropagation();
    setPosition((p) => clamp(move(p)));
  };

  if (mode === 'side') {
    return (
      <div className="compare compare--side">
        {[before, after].map((side) => (
          <div key={side.label} className="compare__cell">
            <figure className="compare__frame compare__frame--static" style={{ '--ratio': ratio } as CSSProperties}>
              <img className="compare__img" src={side.image.preview_url} alt={side.alt} draggable={false} />
              <figcaption className="compare__tag compare__tag--before">{side.label}</figcaption>
            </figure>
          </div>
        ))}
      </div>
    );
  }

  const rounded = Math.round(position);
  return (
    <div className="compare compare--slider">
      <div
        ref={frame}
        className="compare__frame"
        style={{ '--ratio': ratio, '--pos': `${position}%` } as CSSProperties}
        onPointerDown={onPointerDown}
        onPointerMove={(event) => {
          if (event.currentTarget.hasPointerCapture(event.pointerId)) moveTo(event.clientX);
        }}
      >
        <img className="compare__img" src={after.image.preview_url} alt={after.alt} draggable={false} />
        <img className="compare__img compare__img--before" src={before.image.preview_url} alt={before.alt} draggable={false} />
        <span className="compare__tag compare__tag--before" aria-hidden="true">
          {before.label}
        </span>
        <span className="compare__tag compare__tag--after" aria-hidden="true">
          {after.label}
        </span>
        <div
          className="compare__divider"
          role="slider"
          tabIndex={0}
          aria-label={`Divider between ${before.label} and ${after.label}`}
          aria-orientation="horizontal"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={rounded}
          aria-valuetext={`${rounded}% ${before.label}, ${100 - rounded}% ${after.label}`}
          onKeyDown={onKeyDown}
        >
          <span className="compare__knob" aria-hidden="true">
            <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round">
              <path d="M9 6l-5 6 5 6M15 6l5 6-5 6" />
            </svg>
          </span>
        </div>
      </div>
    </div>
  );
}
