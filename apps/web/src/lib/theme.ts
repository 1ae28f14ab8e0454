import { useSyncExternalStore } from 'react';

export type ThemePreference = 'system' | 'light' | 'dark';
const KEY = 'atelier.theme';
const listeners = new Set<() => void>();

function read(): ThemePreference {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

let current: ThemePreference = read();

/** Stores the choice (a UI preference: localStorage, never a cookie) and applies it as `html[data-theme]`. */
export function setTheme(theme: ThemePreference): void {
  current = theme;
  try {
    if (theme === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  } catch {
    /* storage disabled: the choice lasts for this page only */
  }
  // public/theme-init.js keeps following the system preference while nothing is stored.
  document.documentElement.dataset.theme = resolvedTheme(theme);
  listeners.forEach((l) => l());
}

export function useTheme(): ThemePreference {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}

/** The theme actually showing, resolving "system" through the media query. */
export function resolvedTheme(theme: ThemePreference): 'light' | 'dark' {
  if (theme !== 'system') return theme;
  return window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}
