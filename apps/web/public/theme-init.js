// Runs synchronously in <head> so the theme is applied before the first paint: the stored light/dark
// choice, or else the system preference, which it keeps following while no choice is stored.
(function () {
  var root = document.documentElement;
  var system = window.matchMedia('(prefers-color-scheme: light)');
  function stored() {
    try {
      var theme = localStorage.getItem('atelier.theme');
      return theme === 'light' || theme === 'dark' ? theme : null;
    } catch {
      return null; // storage disabled: follow the system preference
    }
  }
  function apply() {
    root.dataset.theme = stored() || (system.matches ? 'light' : 'dark');
  }
  apply();
  system.addEventListener('change', apply);
})();
