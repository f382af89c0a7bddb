/** A small typed event emitter; listeners that throw do not stop the others. */
export class Emitter<Events extends Record<string, unknown>> {
  private listeners = new Map<keyof Events, Set<(arg: never) => void>>();

  /** on adds a listener and returns the function that removes it. */
  on<K extends keyof Events>(event: K, fn: (arg: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn as (arg: never) => void);
    return () => set!.delete(fn as (arg: never) => void);
  }

  protected emit<K extends keyof Events>(event: K, arg: Events[K]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try {
        (fn as (arg: Events[K]) => void)(arg);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
