// Runs synchronously in <head> so a stored light/dark choice is applied before the first paint.
(function () {
  try {
    var theme = localStorage.getItem('atelier.theme');
    if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  } catch {
    /* storage disabled: follow the system preference */
  }
})();
