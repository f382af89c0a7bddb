package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/internal/exactio"
)

var _ upload.ObjectStore = (*Store)(nil)

// DefaultRegion is used when Config.Region is empty.
const DefaultRegion = "us-east-1"

// Config locates the bucket. Endpoint, Bucket, AccessKey and SecretKey are
// required.
type Config struct {
	Endpoint  string // host[:port] Parley reaches the S3 service at
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string // if empty, DefaultRegion
	UseTLS    bool   // https to Endpoint
	// PublicEndpoint is the host[:port] (or scheme://host[:port]) phones
	// reach the service at, when it differs from Endpoint (a container
	// network name, say). Presigned URLs are signed for it. If empty,
	// Endpoint and UseTLS.
	PublicEndpoint string
}

// Validate reports a missing or malformed field.
func (c Config) Validate() error {
	switch {
	case c.Endpoint == "":
		return errors.New("s3: endpoint is required")
	case strings.Contains(c.Endpoint, "://"):
		return fmt.Errorf("s3: endpoint %q must be host[:port] (use UseTLS for https)", c.Endpoint)
	case c.Bucket == "":
		return errors.New("s3: bucket is required")
	case c.AccessKey == "" || c.SecretKey == "":
		return errors.New("s3: access key and secret key are required")
	}
	if _, _, err := c.public(); err != nil {
		return err
	}
	return nil
}

// public returns the host and TLS setting presigned URLs are made for.
func (c Config) public() (host string, secure bool, err error) {
	p := c.PublicEndpoint
	if p == "" {
		return c.Endpoint, c.UseTLS, nil
	}
	if !strings.Contains(p, "://") {
		return p, c.UseTLS, nil
	}
	u, err := url.Parse(p)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return "", false, fmt.Errorf("s3: public endpoint %q must be host[:port] or http(s)://host[:port]", p)
	}
	return u.Host, u.Scheme == "https", nil
}

// Store is an S3 bucket.
type Store struct {
	cfg Config
	// api talks to the service; presigner only signs (it never connects:
	// with the region set, minio-go needs no bucket-location lookup).
	api       *minio.Client
	presigner *minio.Client
}

// New returns a Store for cfg. It does not contact the service; call
// EnsureBucket to check it and create the bucket.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	api, err := newClient(cfg, cfg.Endpoint, cfg.UseTLS)
	if err != nil {
		return nil, err
	}
	host, secure, _ := cfg.public()
	presigner := api
	if host != cfg.Endpoint || secure != cfg.UseTLS {
		if presigner, err = newClient(cfg, host, secure); err != nil {
			return nil, err
		}
	}
	return &Store{cfg: cfg, api: api, presigner: presigner}, nil
}

func newClient(cfg Config, endpoint string, secure bool) (*minio.Client, error) {
	c, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w", endpoint, err)
	}
	return c, nil
}

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.cfg.Bucket }

// PresignUpload returns a POST policy for exactly c.Size bytes of
// c.ContentType under key.
func (s *Store) PresignUpload(ctx context.Context, key string, c upload.UploadConstraints) (*upload.Presigned, error) {
	if c.Size <= 0 || c.ContentType == "" || c.Expires < time.Second {
		return nil, fmt.Errorf("presign upload %s: size, content type and an expiry of at least 1s are required", key)
	}
	expiresAt := time.Now().Add(c.Expires).UTC()
	p := minio.NewPostPolicy()
	for _, err := range []error{
		p.SetBucket(s.cfg.Bucket),
		p.SetKey(key),
		p.SetContentType(c.ContentType),
		p.SetContentLengthRange(c.Size, c.Size),
		p.SetExpires(expiresAt),
	} {
		if err != nil {
			return nil, fmt.Errorf("presign upload %s: %w", key, err)
		}
	}
	u, fields, err := s.presigner.PresignedPostPolicy(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("presign upload %s: %w", key, err)
	}
	return &upload.Presigned{
		Method:    http.MethodPost,
		URL:       u.String(),
		Fields:    fields,
		ExpiresAt: expiresAt.Truncate(time.Millisecond),
	}, nil
}

// PresignDownload returns a presigned GET with a Content-Disposition of
// attachment; filename=downloadName.
func (s *Store) PresignDownload(ctx context.Context, key string, expires time.Duration, downloadName string) (string, error) {
	params := url.Values{}
	if downloadName == "" {
		downloadName = key[strings.LastIndexByte(key, '/')+1:]
	}
	params.Set("response-content-disposition", upload.ContentDisposition(downloadName))
	u, err := s.presigner.PresignedGetObject(ctx, s.cfg.Bucket, key, expires, params)
	if err != nil {
		return "", fmt.Errorf("presign download %s: %w", key, err)
	}
	return u.String(), nil
}

// Stat returns the object's size and content type.
func (s *Store) Stat(ctx context.Context, key string) (upload.ObjectInfo, error) {
	info, err := s.api.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return upload.ObjectInfo{}, fmt.Errorf("stat object %s: %w", key, mapErr(err))
	}
	return upload.ObjectInfo{Size: info.Size, ContentType: info.ContentType}, nil
}

// Open streams the object.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := s.api.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("open object %s: %w", key, mapErr(err))
	}
	// GetObject is lazy; Stat sends the GET so a missing key fails here.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, fmt.Errorf("open object %s: %w", key, mapErr(err))
	}
	return obj, nil
}

// ReadHead returns up to the first n bytes with one range GET.
func (s *Store) ReadHead(ctx context.Context, key string, n int) ([]byte, error) {
	if n <= 0 {
		return nil, fmt.Errorf("read head of %s: n must be positive", key)
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(0, int64(n)-1); err != nil {
		return nil, fmt.Errorf("read head of %s: %w", key, err)
	}
	obj, err := s.api.GetObject(ctx, s.cfg.Bucket, key, opts)
	if err != nil {
		return nil, fmt.Errorf("read head of %s: %w", key, mapErr(err))
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, int64(n)))
	if err != nil {
		if minio.ToErrorResponse(err).Code == "InvalidRange" {
			return []byte{}, nil // an empty object has no byte 0
		}
		return nil, fmt.Errorf("read head of %s: %w", key, mapErr(err))
	}
	return b, nil
}

// Put uploads size bytes from r (size < 0: unknown, multipart).
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	var exact *exactio.Reader
	if size >= 0 {
		exact = exactio.New(r, size)
		r = exact
	}
	_, err := s.api.PutObject(ctx, s.cfg.Bucket, key, r, size, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("put object %s: %w", key, mapErr(err))
	}
	if exact != nil {
		// minio-go reads exactly size bytes and may never see the surplus.
		if err := exact.Verify(); err != nil {
			if derr := s.Delete(ctx, key); derr != nil {
				err = errors.Join(err, derr)
			}
			return fmt.Errorf("put object %s: %w", key, err)
		}
	}
	return nil
}

// Delete removes the object; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.api.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(mapErr(err), upload.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	return nil
}

// EnsureBucket creates the bucket in the configured region if it is missing.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.api.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("check bucket %s: %w", s.cfg.Bucket, err)
	}
	if ok {
		return nil
	}
	err = s.api.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region})
	if err != nil {
		// Another node may have created it between the two calls.
		switch minio.ToErrorResponse(err).Code {
		case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
			return nil
		}
		return fmt.Errorf("create bucket %s: %w", s.cfg.Bucket, err)
	}
	return nil
}

// mapErr turns "no such key" into upload.ErrNotExist (keeping the original
// for logs) and leaves other errors alone.
func mapErr(err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == "NoSuchKey" || (resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket") {
		return fmt.Errorf("%w (%v)", upload.ErrNotExist, err)
	}
	return err
}
