/**
 * Raised when an `AbortSignal` stops a warm or a prefetch: the same `name` and `code` as the errors of
 * Node's own cancellable APIs, with the signal's reason as `cause`.
 */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/**
 * A warm with priority `'high'` could not pin a file: pinned entries are never evicted, so together
 * they must stay within `maxBytes` and `maxEntries`, and this file would have taken them beyond.
 */
export class PinLimitError extends Error {
  readonly code = 'ERR_CACHEFS_PIN_LIMIT';
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`cachefs: cannot pin '${path}': ${detail}`);
    this.path = path;
  }
}

/**
 * A warm or a prefetch met a FIFO, a socket or a device: such a file is never cached (its bytes change
 * with every read, and opening a FIFO waits for a writer), so it is skipped without being opened.
 */
export class NotRegularFileError extends Error {
  readonly code = 'ERR_CACHEFS_NOT_REGULAR_FILE';
  readonly path: string;
  constructor(path: string) {
    super(`cachefs: '${path}' is not a regular file (a FIFO, socket or device is never cached)`);
    this.path = path;
  }
}
