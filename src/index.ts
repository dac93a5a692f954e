/**
 * cachefs: a caching layer for file systems with the surface of `node:fs/promises`.
 * @packageDocumentation
 */
export { CacheFS } from './fs/cachefs.js';
export type { CacheStats, DetailedStats } from './metrics/stats.js';
export { CacheFileHandle } from './fs/file-handle.js';
export type { ReadResult, WriteResult } from './fs/file-handle.js';
export type { CacheFSOptions, WriteMode, TtlRule } from './options.js';
export type { PolicyName } from './policy/policy.js';
export type {
  Backend, BackendDirent, BackendStats, BackendWatcher, BackendFile, BackendSync, BackendStatFs,
} from './backend/backend.js';
export { memoryBackend } from './backend/memory.js';
export { nodeBackend } from './backend/node.js';
export { sftpBackend } from './backend/remote/sftp.js';
export type { SftpBackendOptions } from './backend/remote/sftp.js';
export { webdavBackend } from './backend/remote/webdav.js';
export type { WebdavBackendOptions } from './backend/remote/webdav.js';
export { FsError, CacheClosedError } from './errors.js';
export { FileStats, BigIntFileStats, DirEntry, type StatOptions } from './fs/stats-object.js';
export { CacheDir, DirClosedError } from './fs/dir.js';
export type { BigIntStatFs } from './fs/more-calls.js';
export type { PathCacheStats } from './warm/batch.js';
export type {
  WarmOptions, WarmSmartOptions, WarmProgress, WarmPriority, PrefetchOptions, PrefetchResult,
} from './warm/options.js';
export type { WarmProgressEvent } from './warm/runner.js';
export { AbortError, PinLimitError, NotRegularFileError } from './warm/errors.js';
export { compareSnapshots } from './metrics/snapshot.js';
export type { StatsSnapshot, SnapshotDelta } from './metrics/snapshot.js';
export { MetricsNameError, MetricsConflictError } from './metrics/prometheus.js';
// Event payloads ('evict', 'invalidate'; coherence: 'conflict', 'watchInvalidate', 'shed').
export type { EvictEvent, EvictReason, InvalidateEvent, InvalidateScope } from './cache/ports.js';
export type { ConflictEvent } from './coherence/revalidate.js';
export type { WatchInvalidateEvent } from './coherence/watcher.js';
export type { ShedEvent, MemorySample } from './coherence/memory-pressure.js';
// The HTTP server behind `cachefs serve`, for programs that embed it (src/server/serve.ts).
export { createCacheServer } from './server/serve.js';
export { toBackendStats } from './backend/backend.js';
// For a backend that names files by bytes (`Backend.byteNames`): a key's bytes and back.
export { decodeBytePath, encodeBytePath } from './util/byte-path.js';
export type { CacheServer, CacheServerOptions } from './server/serve.js';
export type { WarmOutcome } from './server/admin.js';
export { JournalError } from './write/back/journal.js';
export type { FlushEvent, FlushErrorEvent } from './write/back/flusher.js';
// Any node:fs-shaped object as a backend, and the synchronous open-file face (API.md 1.2, 1.3 §11).
export { fsBackend } from './backend/fs-backend.js';
export type { FsLike } from './backend/fs-backend.js';
export type { BackendFileSync } from './backend/backend.js';
export { toNodeFs } from './fs/node-fs.js';
export type { NodeFs } from './fs/node-fs.js';
