import { isRouteErrorResponse, useRouteError } from 'react-router';
import { Button } from '#/components/ui/button';
import { AlertIcon } from '#/components/ui/icons';
import { describeError } from '#/lib/api-client';
import './route-fallbacks.css';

export function PageLoading() {
  return (
    <div className="page-loading" role="status" aria-label="Loading">
      <span className="spinner" />
    </div>
  );
}

/** Last resort for errors a route did not handle (including a failed lazy chunk after a redeploy). */
export function RouteError() {
  const error = useRouteError();
  const isChunkError = error instanceof TypeError && /dynamically imported module|Importing a module script failed/i.test(error.message);
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : isChunkError
      ? 'A new version of Atelier was installed. Reload to get it.'
      : describeError(error);
  return (
    <div className="route-error" role="alert">
      <AlertIcon size={28} />
      <h1>Something went wrong</h1>
      <p>{message}</p>
      <Button variant="primary" onClick={() => window.location.reload()}>
        Reload
      </Button>
    </div>
  );
}
