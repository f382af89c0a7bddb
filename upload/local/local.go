package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/internal/exactio"
)

var _ upload.ObjectStore = (*Store)(nil)

// PathPrefix is the URL path Handler serves: presigned URLs are
// BaseURL + PathPrefix + key.
const PathPrefix = "/v1/blobs/"

// MinSecretBytes is the shortest Config.Secret accepted.
const MinSecretBytes = 16

// Config places the store. All fields but Clock are required.
type Config struct {
	// Dir holds the objects (Dir/objects), their content types (Dir/meta)
	// and uploads in flight (Dir/tmp).
	Dir string
	// BaseURL is the scheme://host[:port] clients reach Handler at, e.g.
	// http://127.0.0.1:8080 (a path prefix is allowed: it goes before
	// PathPrefix).
	BaseURL string
	// Secret signs URLs. Keep it across restarts, or URLs handed out before
	// a restart stop working.
	Secret []byte
	// Clock tells the time for expiry. If nil, the system clock.
	Clock chatcore.Clock
}

// Validate reports a missing field.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("local: dir is required")
	case !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://"):
		return fmt.Errorf("local: base URL %q must start with http:// or https://", c.BaseURL)
	case len(c.Secret) < MinSecretBytes:
		return fmt.Errorf("local: secret must be at least %d bytes", MinSecretBytes)
	}
	return nil
}

// Store keeps objects as files.
type Store struct {
	secret  []byte
	baseURL string
	clock   chatcore.Clock
	objects string // Dir/objects
	meta    string // Dir/meta: one file per object holding its content type
	tmp     string // Dir/tmp
	parts   string // Dir/parts: one directory per multipart upload

	// mu serialises the directory changes of multipart uploads (a part
	// replacing another, complete, abort): this store lives in one process.
	mu sync.Mutex
}

// New returns a Store for cfg. Call EnsureBucket to create the directories.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = chatcore.SystemClock{}
	}
	return &Store{
		secret:  append([]byte(nil), cfg.Secret...),
		baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		clock:   cfg.Clock,
		objects: filepath.Join(cfg.Dir, "objects"),
		meta:    filepath.Join(cfg.Dir, "meta"),
		tmp:     filepath.Join(cfg.Dir, "tmp"),
		parts:   filepath.Join(cfg.Dir, "parts"),
	}, nil
}

// EnsureBucket creates the store's directories.
func (s *Store) EnsureBucket(ctx context.Context) error {
	for _, d := range []string{s.objects, s.meta, s.tmp, s.parts} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("create store dir: %w", err)
		}
	}
	return nil
}

// errBadKey is returned for keys that are not clean relative paths.
var errBadKey = errors.New("local: invalid object key")

// checkKey refuses anything but a clean relative slash path, so that no key
// can reach outside the store's directories.
func checkKey(key string) error {
	if key == "" || len(key) > 1024 || strings.ContainsFunc(key, isBadKeyRune) ||
		path.Clean(key) != key || !filepath.IsLocal(filepath.FromSlash(key)) {
		return fmt.Errorf("%w: %q", errBadKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q", errBadKey, key)
		}
	}
	return nil
}

func isBadKeyRune(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }

func (s *Store) objectPath(key string) string {
	return filepath.Join(s.objects, filepath.FromSlash(key))
}
func (s *Store) metaPath(key string) string { return filepath.Join(s.meta, filepath.FromSlash(key)) }

// Stat returns the object's size and content type.
func (s *Store) Stat(ctx context.Context, key string) (upload.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return upload.ObjectInfo{}, fmt.Errorf("stat object: %w", err)
	}
	fi, err := os.Stat(s.objectPath(key))
	if err != nil {
		return upload.ObjectInfo{}, fmt.Errorf("stat object %s: %w", key, mapErr(err))
	}
	if !fi.Mode().IsRegular() {
		return upload.ObjectInfo{}, fmt.Errorf("stat object %s: %w", key, upload.ErrNotExist)
	}
	return upload.ObjectInfo{Size: fi.Size(), ContentType: s.contentType(key)}, nil
}

func (s *Store) contentType(key string) string {
	b, err := os.ReadFile(s.metaPath(key))
	if err != nil || len(b) == 0 {
		return "application/octet-stream"
	}
	return string(b)
}

// Open streams the object.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("open object: %w", err)
	}
	f, err := os.Open(s.objectPath(key))
	if err != nil {
		return nil, fmt.Errorf("open object %s: %w", key, mapErr(err))
	}
	return f, nil
}

// ReadHead returns up to the first n bytes.
func (s *Store) ReadHead(ctx context.Context, key string, n int) ([]byte, error) {
	if n <= 0 {
		return nil, fmt.Errorf("read head of %s: n must be positive", key)
	}
	f, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("read head of %s: %w", key, err)
	}
	return b, nil
}

// Put stores exactly size bytes from r (size < 0: whatever r holds).
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	if size >= 0 {
		r = exactio.New(r, size)
	}
	if err := s.write(ctx, key, r, contentType); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}

// write streams r into a temp file and renames it into place, so readers
// never see a partial object.
func (s *Store) write(ctx context.Context, key string, r io.Reader, contentType string) error {
	tmp, err := os.CreateTemp(s.tmp, "put-*")
	if errors.Is(err, fs.ErrNotExist) {
		// EnsureBucket was not called (or the directory was removed).
		if err = s.EnsureBucket(ctx); err == nil {
			tmp, err = os.CreateTemp(s.tmp, "put-*")
		}
	}
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = io.Copy(tmp, ctxReader{ctx, r})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	obj, meta := s.objectPath(key), s.metaPath(key)
	for _, d := range []string{filepath.Dir(obj), filepath.Dir(meta)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
	}
	if err := os.WriteFile(meta, []byte(contentType), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), obj)
}

// Delete removes the object, its metadata and its directory if now empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	for _, p := range []string{s.objectPath(key), s.metaPath(key)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete object %s: %w", key, err)
		}
		// Only the immediate parent (one upload's random directory): the
		// date directories above are shared with concurrent writers.
		if d := filepath.Dir(p); d != s.objects && d != s.meta {
			_ = os.Remove(d) // fails harmlessly when not empty
		}
	}
	return nil
}

func mapErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w (%v)", upload.ErrNotExist, err)
	}
	return err
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// now returns the store's time.
func (s *Store) now() time.Time { return s.clock.Now() }
