export * from './errors.ts';
export * from './models.ts';
export * from './sizes.ts';
export * from './generations.ts';
export * from './accounts.ts';
export * from './admin.ts';
export * from './uploads.ts';
