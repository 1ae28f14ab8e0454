import { Link } from 'react-router';

export function Component() {
  return (
    <div className="route-error">
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <Link to="/" className="btn btn--primary btn--md">
        Back to the studio
      </Link>
    </div>
  );
}
