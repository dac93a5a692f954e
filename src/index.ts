export type { Backend, BackendDirent, BackendStats, BackendWatcher } from './backend/backend.js';
export { FsError, CacheClosedError } from './errors.js';
