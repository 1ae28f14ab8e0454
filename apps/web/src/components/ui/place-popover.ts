/**
 * Positions a fixed popover next to its anchor (below, or above when there is no room), kept inside the
 * viewport. CSS anchor positioning would do this declaratively but is not in every browser yet.
 */
export function placePopover(popover: HTMLElement, anchor: HTMLElement, options: { align?: 'start' | 'end'; matchWidth?: boolean } = {}): void {
  const r = anchor.getBoundingClientRect();
  if (options.matchWidth) popover.style.width = `${r.width}px`;
  const { offsetWidth: w, offsetHeight: h } = popover;
  const below = window.innerHeight - r.bottom;
  const top = below >= h + 8 || r.top < h + 8 ? r.bottom + 6 : r.top - h - 6;
  let left = options.align === 'end' ? r.right - w : r.left;
  left = Math.max(8, Math.min(left, window.innerWidth - w - 8));
  popover.style.top = `${Math.max(8, top)}px`;
  popover.style.left = `${left}px`;
}
