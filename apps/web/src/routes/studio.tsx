import { useDocumentTitle } from '#/lib/use-document-title';
import { Outlet } from 'react-router';
import { GeneratePanel } from '#/features/generations/components/generate-panel';
import { HistoryGrid } from '#/features/generations/components/history-grid';
import './studio.css';

/** The studio: generate panel beside (on a phone: above) the live history; the detail opens over it. */
export function Component() {
  useDocumentTitle('Studio');
  return (
    <div className="studio">
      <aside className="studio__panel" aria-label="Generate">
        <GeneratePanel />
      </aside>
      <div className="studio__history">
        <HistoryGrid />
      </div>
      <Outlet />
    </div>
  );
}
