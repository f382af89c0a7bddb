package s3_test

import (
	"testing"

	"github.com/parley-chat/parley/deploy/testenv"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/s3"
	"github.com/parley-chat/parley/upload/storetest"
)

// newStore starts a versitygw for t and returns a store on a fresh bucket.
func newStore(t *testing.T, public string) *s3.Store {
	t.Helper()
	srv := testenv.S3(t)
	store, err := s3.New(s3.Config{
		Endpoint:       srv.Endpoint,
		Bucket:         "parley-test",
		AccessKey:      srv.AccessKey,
		SecretKey:      srv.SecretKey,
		Region:         srv.Region,
		PublicEndpoint: public,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := store.EnsureBucket(t.Context()); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	return store
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (upload.ObjectStore, storetest.Client) {
		return newStore(t, ""), storetest.Client{}
	})
}
