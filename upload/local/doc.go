// Package local is the upload.ObjectStore adapter for `parley dev`: objects
// are files under a directory and Parley itself serves the presigned URLs,
// enforcing what an S3 POST policy would: an HMAC-SHA256 signature over the
// operation, key, expiry, exact size and content type (checked in constant
// time), expiry, the exact size (the body is streamed to disk through a
// limit; one byte over is refused and nothing is stored) and the content
// type.
//
// Mount Handler at PathPrefix on the server whose address is Config.BaseURL:
//
//	store, err := local.New(local.Config{Dir: "data/blobs", BaseURL: "http://127.0.0.1:8080", Secret: secret})
//	mux.Handle(local.PathPrefix, store.Handler())
//
// An upload is a multipart/form-data POST to the presigned URL with the
// presigned fields first and the file last in a part named "file" (as for
// S3), or a PUT of the raw body to the URL with the fields as query
// parameters and the Content-Type header set to the signed type.
package local
