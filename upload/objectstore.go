package upload

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotExist is returned (wrapped) by ObjectStore.Stat, Open and ReadHead
// when no object has the key. Test it with errors.Is.
var ErrNotExist = errors.New("upload: object does not exist")

// UploadConstraints are what a presigned upload enforces at the store.
type UploadConstraints struct {
	// ContentType the upload must declare (the S3 policy's Content-Type
	// condition, or the local store's signed type). Required.
	ContentType string
	// Size is the exact declared size. The store refuses a body larger than
	// it; both adapters refuse a smaller one as well. Must be > 0.
	Size int64
	// Expires is how long the presigned request stays valid.
	Expires time.Duration
}

// Presigned is a request the client sends straight to the object store.
type Presigned struct {
	// Method is "POST" (a multipart/form-data body with Fields, then the file
	// in a last part named "file") or "PUT" (the raw body with Headers).
	Method    string
	URL       string
	Fields    map[string]string
	Headers   map[string]string
	ExpiresAt time.Time
}

// ObjectInfo is what Stat reports about a stored object.
type ObjectInfo struct {
	Size        int64
	ContentType string
}

// ObjectStore holds the bytes of uploads and their derived variants.
// Adapters: upload/s3 and upload/local; both pass upload/storetest.
//
// Keys are slash-separated paths chosen by Parley (never by clients).
// Errors other than ErrNotExist are internal (the store is unreachable,
// misconfigured or refused the request) and are wrapped with context.
type ObjectStore interface {
	// PresignUpload returns a request with which a client can store exactly
	// c.Size bytes of type c.ContentType under key until c.Expires has
	// passed. It does not contact the store.
	PresignUpload(ctx context.Context, key string, c UploadConstraints) (*Presigned, error)
	// PresignDownload returns a URL that GETs the object for expires (at
	// most 5 minutes is sensible) with Content-Disposition attachment and
	// downloadName as file name ("" = the key's last element).
	PresignDownload(ctx context.Context, key string, expires time.Duration, downloadName string) (string, error)
	// Stat returns the object's size and content type; ErrNotExist if none.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Open streams the object; ErrNotExist if none. The caller closes it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// ReadHead returns the first n bytes of the object (fewer if it is
	// shorter) for sniffing; ErrNotExist if none.
	ReadHead(ctx context.Context, key string, n int) ([]byte, error)
	// Put stores size bytes read from r under key (workers write variants
	// with it). It fails if r yields a different number of bytes; size < 0
	// means unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Delete removes the object. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// EnsureBucket creates the bucket (or directory) if it is missing.
	EnsureBucket(ctx context.Context) error

	// Move puts the object at src under dst, inside the store (a
	// server-side copy then a delete on S3, a rename on local), replacing
	// any object at dst; ErrNotExist if src has none. Complete moves a
	// verified upload to a key no presigned URL can write.
	Move(ctx context.Context, src, dst string) error

	// NewMultipart starts a multipart upload to key and returns its id.
	NewMultipart(ctx context.Context, key, contentType string) (string, error)
	// PresignPart returns a PUT with which a client stores part number
	// (1-based) of exactly size bytes until expires has passed. It does not
	// contact the store.
	PresignPart(ctx context.Context, key, uploadID string, number int, size int64, expires time.Duration) (*Presigned, error)
	// ListParts returns the parts the store holds, by number;
	// ErrNoUpload if the upload was completed or aborted.
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)
	// CompleteMultipart assembles parts (as ListParts returned them, in
	// order) into the object at key and ends the upload; ErrPartChanged if
	// a part's ETag is no longer the stored one.
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) error
	// AbortMultipart ends the upload and deletes its parts; an upload
	// that no longer exists is not an error.
	AbortMultipart(ctx context.Context, key, uploadID string) error
}

// Part is one stored part of a multipart upload.
type Part struct {
	Number int
	Size   int64
	ETag   string
}

// ErrNoUpload is returned (wrapped) by ListParts for a multipart upload
// that does not exist (completed, aborted, or never started).
var ErrNoUpload = errors.New("upload: no such multipart upload")

// ErrPartChanged is returned (wrapped) by CompleteMultipart when a part
// was replaced after it was listed.
var ErrPartChanged = errors.New("upload: a part changed while completing")
