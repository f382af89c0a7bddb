// Package storetest is the contract every upload.ObjectStore adapter
// passes. It drives the store the way Parley and the phones do: it presigns
// uploads and sends real net/http requests to them, then checks what the
// store kept. An adapter's test calls Run with a function that gives each
// subtest a fresh, empty store:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (upload.ObjectStore, storetest.Client) {
//			return newStore(t), storetest.Client{HTTP: http.DefaultClient}
//		})
//	}
package storetest
