import { promisify } from 'node:util';

type Callback = (err: unknown, ...values: unknown[]) => void;
type CallbackForm = (...args: unknown[]) => void;

/**
 * Gives the drop-in's forms the `util.promisify` answers Node's own have: `exists` resolves with its
 * boolean (its callback takes no error, so a plain promisify rejected with `true`), and `read`, `write`,
 * `readv` and `writev` resolve with both their results as one object (a plain promisify kept the first
 * only, so `const { bytesRead, buffer } = await promisify(fs.read)(…)` got nothing). Older programs and
 * `mz`-style wrappers promisify a whole fs module this way.
 */
export function promisifyLikeNode(forms: { exists: CallbackForm; read: CallbackForm; write: CallbackForm; readv: CallbackForm; writev: CallbackForm }): void {
  Object.defineProperty(forms.exists, promisify.custom, {
    value: (path: unknown) => new Promise((resolve) => forms.exists(path, resolve)),
  });
  const both = (form: CallbackForm, first: string, second: string) =>
    Object.defineProperty(form, promisify.custom, {
      value: (...args: unknown[]) => new Promise((resolve, reject) => {
        const cb: Callback = (err, a, b) => (err ? reject(err) : resolve({ [first]: a, [second]: b }));
        form(...args, cb);
      }),
    });
  both(forms.read, 'bytesRead', 'buffer');
  both(forms.write, 'bytesWritten', 'buffer');
  both(forms.readv, 'bytesRead', 'buffers');
  both(forms.writev, 'bytesWritten', 'buffer'); // sic: Node names writev's second result 'buffer'
}
