import { WriteThrough } from './through.js';

/**
 * Write-around: writes go to the backend only and the cached copy is dropped, so data written once and
 * rarely read does not push out what is read often. Write-back hands it the writes it cannot cache.
 */
export class WriteAround extends WriteThrough {
  override readonly keepsWrittenBytes: boolean = false;

  protected override async replaced(key: string): Promise<void> {
    this.dropCopy(key);
  }

  protected override patched(key: string): undefined {
    this.dropCopy(key);
    return undefined;
  }

  private dropCopy(key: string): void {
    const cache = this.ctx.cache;
    cache.metadataChanged(key);
    // A dirty copy (write-back's, whose large writes come here) is newer than what was written: it stays.
    cache.invalidate({ path: key }, 'keep');
  }
}
