import { useEffect, useState } from "preact/hooks";
import type { AppStore } from "../store";

/** useStore re-renders the component whenever the store changes. */
export function useStore(store: AppStore): number {
  const [v, setV] = useState(store.version);
  useEffect(() => store.subscribe(() => setV(store.version)), [store]);
  return v;
}
