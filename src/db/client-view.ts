/**
 * A view of a postgres.js client whose `unsafe` queries run through a function of the caller's,
 * inside transactions and savepoints too: drizzle runs every query through `unsafe`, and a
 * transaction's run on the client postgres.js hands its callback, which gets the same view.
 */
import type postgres from 'postgres';

type Unsafe = postgres.Sql['unsafe'];
type Work = (sql: postgres.Sql) => unknown;

export function clientView(
  client: postgres.Sql,
  unsafe: (sql: postgres.Sql, ...args: Parameters<Unsafe>) => ReturnType<Unsafe>,
): postgres.Sql {
  const view = (target: postgres.Sql): postgres.Sql =>
    new Proxy(target, {
      get(sql, property, receiver) {
        if (property === 'unsafe') return (...args: Parameters<Unsafe>) => unsafe(sql, ...args);
        if (property === 'begin' || property === 'savepoint') {
          const open = Reflect.get(sql, property, receiver) as (...args: unknown[]) => unknown;
          return (...args: unknown[]) => {
            const work = args.pop() as Work;
            return open.call(sql, ...args, (inner: postgres.Sql) => work(view(inner)));
          };
        }
        return Reflect.get(sql, property, receiver) as unknown;
      },
    });
  return view(client);
}
