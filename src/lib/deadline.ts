/**
 * A deadline on a wait the caller cannot cancel (a pool's queue, a query already sent): the
 * caller stops waiting at the deadline with the error it names; the work itself goes on and its
 * outcome is dropped. Not for waits that take a signal or PostgreSQL's `lock_timeout`: those end
 * the work too.
 */
export function withDeadline<T>(
  work: Promise<T>,
  deadlineMs: number,
  onDeadline: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onDeadline()), deadlineMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
