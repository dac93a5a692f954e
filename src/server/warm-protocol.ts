/**
 * The wire format of `POST /_cachefs/warm`, shared by the server (admin.ts) and the client (client.ts).
 *
 * Request body (JSON, `Content-Type: application/json`):
 * `{ "patterns"?: string[], "paths"?: string[], "concurrency"?: number, "priority"?: "low"|"normal"|"high" }`
 * — globs are warmed with `warmFromPattern`, one after another, then `paths` with `warm`.
 *
 * Response: `200` with `Content-Type: application/x-ndjson`, one JSON object a line:
 * `{"type":"progress", total, completed, errors, bytesRead, errorsByCode, evicted}` while warming (at
 * most every 100 ms, and after the first file), then exactly one of `{"type":"done", …progress,
 * failures, failuresOmitted}` or `{"type":"error", code, message, …progress, failures, failuresOmitted}`,
 * where `failures` lists `{ path, code, message }` of the first failed files (all with `"verbose": true`). Closing the connection cancels the warming.
 * Errors found before warming starts (a bad body) are plain JSON answers
 * `{ "error": { code, message } }` with a 4xx/5xx status.
 */
import type { WarmPriority, WarmProgress } from '../warm/options.js';

export type { WarmPriority, WarmProgress };

export interface WarmRequest {
  patterns?: string[];
  paths?: string[];
  concurrency?: number;
  priority?: WarmPriority;
  /** List every failed file in the final line, not only the first {@link FIRST_FAILURES}. */
  verbose?: boolean;
}

/** Failed files listed in the final line unless the request is `verbose`. */
export const FIRST_FAILURES = 10;

/** One file that could not be warmed. */
export interface WarmFailure {
  path: string;
  code: string;
  message: string;
}

/** What the final line adds: the failed files (the first ones, or all with `verbose`) and how many were left out. */
export interface WarmFailures {
  failures: WarmFailure[];
  failuresOmitted: number;
}

export type WarmLine =
  | ({ type: 'progress' } & WarmProgress)
  | ({ type: 'done' } & WarmProgress & WarmFailures)
  | ({ type: 'error'; code: string; message: string } & WarmProgress & WarmFailures);

/** The JSON body of an admin error answer. */
export interface AdminErrorBody {
  error: { code: string; message: string };
}

export const WARM_PATH = '/_cachefs/warm';
export const STATS_PATH = '/_cachefs/stats';
export const METRICS_PATH = '/_cachefs/metrics';
