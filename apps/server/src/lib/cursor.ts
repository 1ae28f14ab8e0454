import { AppError } from './errors.ts';

/**
 * Keyset-paging cursors: the last row's id (a UUIDv7, so ids sort by time), opaque to clients. A cursor
 * that is not one of ours is a 400 naming the parameter, never a 500.
 */
export const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('validation_failed', 'Invalid cursor', { fields: [{ path: 'cursor', message: 'not a cursor returned by this API' }] });
  return id;
}
