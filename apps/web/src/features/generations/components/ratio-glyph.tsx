/** A small rectangle drawn in the shape of an aspect ratio ("16:9"). */
export function RatioGlyph({ ratio, size = 18 }: { ratio: string; size?: number }) {
  const [w = 1, h = 1] = ratio.split(':').map(Number);
  const max = size - 3;
  const rw = w >= h ? max : (max * w) / h;
  const rh = h >= w ? max : (max * h) / w;
  return (
    <svg width={size} height={size} viewBox={`0 0 ${size} ${size}`} aria-hidden="true" focusable="false">
      <rect x={(size - rw) / 2} y={(size - rh) / 2} width={rw} height={rh} rx={2} fill="none" stroke="currentColor" strokeWidth={1.5} />
    </svg>
  );
}
