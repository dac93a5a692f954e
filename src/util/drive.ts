/**
 * Steps of an algorithm written once for a synchronous and an asynchronous form: each call it makes is
 * yielded, and a driver hands back the answer (awaited by {@link driveAsync}, as it comes by
 * {@link driveSync}); a failure is thrown back in where the call was yielded, so the steps' own
 * `try`/`catch` sees it in both forms.
 */
export type Steps<T> = Generator<unknown, T, any>; // `any`: each yield answers its own call

/** Runs `steps`, awaiting each answer. */
export async function driveAsync<T>(steps: Steps<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    let answer: unknown;
    try {
      answer = await next.value;
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(answer);
  }
  return next.value;
}

/** Runs `steps` with synchronous calls (their failures are thrown inside the steps, where they occur). */
export function driveSync<T>(steps: Steps<T>): T {
  let next = steps.next();
  while (!next.done) next = steps.next(next.value);
  return next.value;
}
