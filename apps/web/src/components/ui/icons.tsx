import type { ReactNode, SVGProps } from 'react';

type IconProps = SVGProps<SVGSVGElement> & { size?: number };

function icon(name: string, body: ReactNode) {
  function Icon({ size = 16, ...props }: IconProps) {
    return (
      <svg
        width={size}
        height={size}
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        strokeWidth={1.8}
        strokeLinecap="round"
        strokeLinejoin="round"
        aria-hidden="true"
        focusable="false"
        {...props}
      >
        {body}
      </svg>
    );
  }
  Icon.displayName = `${name}Icon`;
  return Icon;
}

export const SparklesIcon = icon('Sparkles', (
  <>
    <path d="M12 3.5l1.9 4.6 4.6 1.9-4.6 1.9L12 16.5l-1.9-4.6L5.5 10l4.6-1.9z" />
    <path d="M19 15l.8 2.2L22 18l-2.2.8L19 21l-.8-2.2L16 18l2.2-.8z" />
  </>
));
export const DiceIcon = icon('Dice', (
  <>
    <rect x="3.5" y="3.5" width="17" height="17" rx="3.5" />
    <circle cx="8.5" cy="8.5" r="1.1" fill="currentColor" stroke="none" />
    <circle cx="15.5" cy="8.5" r="1.1" fill="currentColor" stroke="none" />
    <circle cx="12" cy="12" r="1.1" fill="currentColor" stroke="none" />
    <circle cx="8.5" cy="15.5" r="1.1" fill="currentColor" stroke="none" />
    <circle cx="15.5" cy="15.5" r="1.1" fill="currentColor" stroke="none" />
  </>
));
export const DownloadIcon = icon('Download', (
  <>
    <path d="M12 4v11" />
    <path d="M7 10.5l5 5 5-5" />
    <path d="M5 19.5h14" />
  </>
));
export const TrashIcon = icon('Trash', (
  <>
    <path d="M4.5 7h15" />
    <path d="M9.5 7V4.8h5V7" />
    <path d="M6.5 7l.9 12.2a1.5 1.5 0 0 0 1.5 1.3h6.2a1.5 1.5 0 0 0 1.5-1.3L17.5 7" />
  </>
));
export const CloseIcon = icon('Close', (
  <>
    <path d="M6 6l12 12" />
    <path d="M18 6L6 18" />
  </>
));
export const ChevronLeftIcon = icon('ChevronLeft', <path d="M14.5 5.5L8 12l6.5 6.5" />);
export const ChevronRightIcon = icon('ChevronRight', <path d="M9.5 5.5L16 12l-6.5 6.5" />);
export const ChevronDownIcon = icon('ChevronDown', <path d="M6 9.5l6 6 6-6" />);
export const CopyIcon = icon('Copy', (
  <>
    <rect x="8.5" y="8.5" width="11" height="11" rx="2.2" />
    <path d="M15.5 8.5V6.2a1.7 1.7 0 0 0-1.7-1.7H6.2a1.7 1.7 0 0 0-1.7 1.7v7.6a1.7 1.7 0 0 0 1.7 1.7h2.3" />
  </>
));
export const CheckIcon = icon('Check', <path d="M5 12.5l4.5 4.5L19 7.5" />);
export const ReuseIcon = icon('Reuse', (
  <>
    <path d="M4.5 12a7.5 7.5 0 0 1 13-5.1L19.5 9" />
    <path d="M19.5 4.5V9H15" />
    <path d="M19.5 12a7.5 7.5 0 0 1-13 5.1L4.5 15" />
    <path d="M4.5 19.5V15H9" />
  </>
));
export const SunIcon = icon('Sun', (
  <>
    <circle cx="12" cy="12" r="4" />
    <path d="M12 2.5v2M12 19.5v2M4.6 4.6l1.4 1.4M18 18l1.4 1.4M2.5 12h2M19.5 12h2M4.6 19.4L6 18M18 6l1.4-1.4" />
  </>
));
export const MoonIcon = icon('Moon', <path d="M19.5 14.5A8 8 0 0 1 9.5 4.5a8 8 0 1 0 10 10z" />);
export const MonitorIcon = icon('Monitor', (
  <>
    <rect x="3" y="4.5" width="18" height="12" rx="2" />
    <path d="M9 20.5h6M12 16.5v4" />
  </>
));
export const KeyIcon = icon('Key', (
  <>
    <circle cx="8" cy="15" r="4" />
    <path d="M11 12l8.5-8.5M16.5 6.5l2.5 2.5M14 9l2 2" />
  </>
));
export const ImageIcon = icon('Image', (
  <>
    <rect x="3.5" y="4.5" width="17" height="15" rx="2.5" />
    <circle cx="9" cy="10" r="1.8" />
    <path d="M20.5 15.5l-4.5-4.5-9.5 8.5" />
  </>
));
export const AlertIcon = icon('Alert', (
  <>
    <path d="M12 3.8l9.2 16H2.8z" />
    <path d="M12 10v4.2" />
    <circle cx="12" cy="17" r=".6" fill="currentColor" />
  </>
));
export const InfoIcon = icon('Info', (
  <>
    <circle cx="12" cy="12" r="8.5" />
    <path d="M12 11v5.5" />
    <circle cx="12" cy="7.8" r=".6" fill="currentColor" />
  </>
));
export const LogOutIcon = icon('LogOut', (
  <>
    <path d="M14.5 4.5h-8a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h8" />
    <path d="M10.5 12h10M17 8.5l3.5 3.5-3.5 3.5" />
  </>
));
export const PlusIcon = icon('Plus', <path d="M12 5v14M5 12h14" />);
export const SwapIcon = icon('Swap', (
  <>
    <path d="M7 4.5v15M3.5 8L7 4.5 10.5 8" />
    <path d="M17 19.5v-15M13.5 16l3.5 3.5 3.5-3.5" />
  </>
));
export const StopIcon = icon('Stop', <rect x="6.5" y="6.5" width="11" height="11" rx="2" />);
export const ExternalIcon = icon('External', (
  <>
    <path d="M13.5 4.5h6v6" />
    <path d="M19.5 4.5l-8 8" />
    <path d="M17.5 14v4a2 2 0 0 1-2 2h-9.5a2 2 0 0 1-2-2V8.5a2 2 0 0 1 2-2h4" />
  </>
));
export const CpuIcon = icon('Cpu', (
  <>
    <rect x="6.5" y="6.5" width="11" height="11" rx="2" />
    <path d="M9.5 2.5v4M14.5 2.5v4M9.5 17.5v4M14.5 17.5v4M2.5 9.5h4M2.5 14.5h4M17.5 9.5h4M17.5 14.5h4" />
  </>
));
export const RefineIcon = icon('Refine', (
  <>
    <path d="M4.5 19.5l10-10" />
    <path d="M13 8l3 3" />
    <path d="M17.5 3.5l.7 1.8 1.8.7-1.8.7-.7 1.8-.7-1.8-1.8-.7 1.8-.7z" />
    <path d="M8 4l.5 1.2 1.2.5-1.2.5L8 7.4l-.5-1.2-1.2-.5 1.2-.5z" />
  </>
));
export const ImagePlusIcon = icon('ImagePlus', (
  <>
    <path d="M20.5 12.5v4.5a2.5 2.5 0 0 1-2.5 2.5H6a2.5 2.5 0 0 1-2.5-2.5V7A2.5 2.5 0 0 1 6 4.5h6.5" />
    <circle cx="9" cy="10" r="1.6" />
    <path d="M20.5 16l-4.2-4.2-8.8 7.7" />
    <path d="M18.5 3v6M15.5 6h6" />
  </>
));
export const UploadIcon = icon('Upload', (
  <>
    <path d="M12 15.5V4.5" />
    <path d="M7 9l5-5 5 5" />
    <path d="M5 19.5h14" />
  </>
));
export const MoreIcon = icon('More', (
  <>
    <circle cx="6" cy="12" r="1.2" fill="currentColor" stroke="none" />
    <circle cx="12" cy="12" r="1.2" fill="currentColor" stroke="none" />
    <circle cx="18" cy="12" r="1.2" fill="currentColor" stroke="none" />
  </>
));
export const BranchIcon = icon('Branch', (
  <>
    <circle cx="6.5" cy="5.5" r="2" />
    <circle cx="6.5" cy="18.5" r="2" />
    <circle cx="17.5" cy="8.5" r="2" />
    <path d="M6.5 7.5v9" />
    <path d="M17.5 10.5c0 4-11 2.5-11 6" />
  </>
));
