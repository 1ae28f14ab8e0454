import './logo.css';

export function Logo({ withWordmark = true }: { withWordmark?: boolean }) {
  return (
    <span className="logo">
      <svg className="logo__mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
        <defs>
          <linearGradient id="logo-g" x1="0" y1="0" x2="1" y2="1">
            <stop offset="0" stopColor="#8e82ff" />
            <stop offset="0.55" stopColor="#b25cf0" />
            <stop offset="1" stopColor="#ec5fa8" />
          </linearGradient>
        </defs>
        <rect width="32" height="32" rx="9" fill="url(#logo-g)" />
        <path d="M9 23 15.2 8.5h1.6L23 23h-3.1l-1.4-3.5h-5l-1.4 3.5Zm5.4-6h3.2L16 12.8Z" fill="#fff" />
      </svg>
      {withWordmark && <span className="logo__word">Atelier</span>}
    </span>
  );
}
