import type { ReactNode, SVGProps } from 'react';

/** Icons the history and collections need, drawn like the UI kit's (24 grid, 1.8 stroke, currentColor). */
type IconProps = SVGProps<SVGSVGElement> & { size?: number };

function icon(name: string, body: ReactNode) {
  function Icon({ size = 16, ...props }: IconProps) {
    return (
      <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false" {...props}>
        {body}
      </svg>
    );
  }
  Icon.displayName = `${name}Icon`;
  return Icon;
}

const STAR = 'M12 3.6l2.6 5.3 5.8.8-4.2 4.1 1 5.8-5.2-2.7-5.2 2.7 1-5.8-4.2-4.1 5.8-.8z';

export const StarIcon = icon('Star', <path d={STAR} />);
export const StarFilledIcon = icon('StarFilled', <path d={STAR} fill="currentColor" />);
export const SearchIcon = icon('Search', (
  <>
    <circle cx="10.5" cy="10.5" r="6" />
    <path d="M15 15l5 5" />
  </>
));
export const FolderIcon = icon('Folder', <path d="M3.5 7.5A2 2 0 0 1 5.5 5.5h4l2 2.2h7a2 2 0 0 1 2 2v7.8a2 2 0 0 1-2 2h-13a2 2 0 0 1-2-2z" />);
export const FolderPlusIcon = icon('FolderPlus', (
  <>
    <path d="M20.5 12V9.7a2 2 0 0 0-2-2h-7l-2-2.2h-4a2 2 0 0 0-2 2v9.8a2 2 0 0 0 2 2H12" />
    <path d="M18 14.5v6M15 17.5h6" />
  </>
));
export const FolderMoveIcon = icon('FolderMove', (
  <>
    <path d="M20.5 11V9.7a2 2 0 0 0-2-2h-7l-2-2.2h-4a2 2 0 0 0-2 2v9.8a2 2 0 0 0 2 2H12" />
    <path d="M15 17.5h6M18.5 15l2.5 2.5-2.5 2.5" />
  </>
));
export const CompareIcon = icon('Compare', (
  <>
    <rect x="3.5" y="4.5" width="17" height="15" rx="2.5" />
    <path d="M12 2.5v19" />
    <path d="M7 12h2M15 12h2" />
  </>
));
export const SelectIcon = icon('Select', (
  <>
    <rect x="3.5" y="3.5" width="17" height="17" rx="4" />
    <path d="M8 12.2l2.8 2.8L16.2 9.5" />
  </>
));
export const CalendarIcon = icon('Calendar', (
  <>
    <rect x="3.5" y="5" width="17" height="15.5" rx="2.5" />
    <path d="M3.5 9.5h17M8 3v4M16 3v4" />
  </>
));
export const PencilIcon = icon('Pencil', (
  <>
    <path d="M15.5 5.5l3 3L8 19l-4 1 1-4z" />
    <path d="M13.5 7.5l3 3" />
  </>
));
export const RepeatIcon = icon('Repeat', (
  <>
    <path d="M4.5 11V9.5a3 3 0 0 1 3-3h12" />
    <path d="M16.5 3.5l3 3-3 3" />
    <path d="M19.5 13v1.5a3 3 0 0 1-3 3h-12" />
    <path d="M7.5 20.5l-3-3 3-3" />
  </>
));
export const ShuffleIcon = icon('Shuffle', (
  <>
    <path d="M3.5 7h3c4.5 0 6.5 10 11 10h3" />
    <path d="M3.5 17h3c1.8 0 3-1.5 4-3.4M13.5 10.4c1-1.9 2.2-3.4 4-3.4h3" />
    <path d="M18 4.5L20.5 7 18 9.5M18 14.5l2.5 2.5-2.5 2.5" />
  </>
));
export const ModelIcon = icon('Model', (
  <>
    <path d="M12 3.5l8 4.5-8 4.5-8-4.5z" />
    <path d="M4 12.5l8 4.5 8-4.5" />
    <path d="M4 16.5l8 4.5 8-4.5" />
  </>
));
export const WorkflowIcon = icon('Workflow', (
  <>
    <rect x="3.5" y="4" width="6" height="6" rx="1.5" />
    <rect x="14.5" y="14" width="6" height="6" rx="1.5" />
    <path d="M9.5 7h4a3 3 0 0 1 3 3v4" />
  </>
));
export const SideBySideIcon = icon('SideBySide', (
  <>
    <rect x="3" y="5.5" width="8" height="13" rx="1.8" />
    <rect x="13" y="5.5" width="8" height="13" rx="1.8" />
  </>
));
