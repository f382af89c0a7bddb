// The web client's entry: one SDK Client with the browser's pieces, one
// store, and the Preact view tree.
import { render } from "preact";
import { Client } from "@parley/client";
import { browserLock, browserNetwork, localStorageSync, localStorageTokens, xhrTransport } from "@parley/client/browser";
import { AppStore } from "./store";
import { App } from "./ui/App";

const client = new Client({
  baseURL: location.origin,
  storage: localStorageTokens(),
  syncStorage: localStorageSync(),
  network: browserNetwork(),
  uploadTransport: xhrTransport,
  lock: browserLock,
});
const store = new AppStore(client);
void store.boot().finally(() => render(<App store={store} />, document.getElementById("app")!));
