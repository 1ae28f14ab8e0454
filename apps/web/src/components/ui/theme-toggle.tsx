import { setTheme, useTheme, type ThemePreference } from '#/lib/theme';
import { IconButton } from './button';
import { MonitorIcon, MoonIcon, SunIcon } from './icons';

const NEXT: Record<ThemePreference, ThemePreference> = { system: 'dark', dark: 'light', light: 'system' };
const LABEL: Record<ThemePreference, string> = { system: 'system', dark: 'dark', light: 'light' };

/** Cycles system → dark → light; the label says both the current and the next state. */
export function ThemeToggle() {
  const theme = useTheme();
  const Icon = theme === 'dark' ? MoonIcon : theme === 'light' ? SunIcon : MonitorIcon;
  return (
    <IconButton label={`Theme: ${LABEL[theme]} (switch to ${LABEL[NEXT[theme]]})`} onClick={() => setTheme(NEXT[theme])}>
      <Icon size={18} />
    </IconButton>
  );
}
