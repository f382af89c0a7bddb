package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/parley-chat/parley/upload"
)

// Move copies src to dst on the server, then deletes src.
func (s *Store) Move(ctx context.Context, src, dst string) error {
	_, err := s.api.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: s.cfg.Bucket, Object: dst},
		minio.CopySrcOptions{Bucket: s.cfg.Bucket, Object: src})
	if err != nil {
		return fmt.Errorf("move object %s to %s: %w", src, dst, mapErr(err))
	}
	if err := s.Delete(ctx, src); err != nil {
		return fmt.Errorf("move object %s to %s: %w", src, dst, err)
	}
	return nil
}

func (s *Store) core() minio.Core { return minio.Core{Client: s.api} }

// NewMultipart starts an S3 multipart upload.
func (s *Store) NewMultipart(ctx context.Context, key, contentType string) (string, error) {
	id, err := s.core().NewMultipartUpload(ctx, s.cfg.Bucket, key, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return "", fmt.Errorf("new multipart upload %s: %w", key, err)
	}
	return id, nil
}

// PresignPart presigns an UploadPart with its Content-Length signed, so
// the service refuses a part of another size.
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, number int, size int64, expires time.Duration) (*upload.Presigned, error) {
	if number < 1 || size <= 0 || uploadID == "" || expires < time.Second {
		return nil, fmt.Errorf("presign part %d of %s: a part number ≥ 1, a size, an upload id and an expiry of at least 1s are required", number, key)
	}
	q := url.Values{}
	q.Set("partNumber", strconv.Itoa(number))
	q.Set("uploadId", uploadID)
	length := strconv.FormatInt(size, 10)
	expiresAt := time.Now().Add(expires).UTC()
	u, err := s.presigner.PresignHeader(ctx, http.MethodPut, s.cfg.Bucket, key, expires, q, http.Header{"Content-Length": {length}})
	if err != nil {
		return nil, fmt.Errorf("presign part %d of %s: %w", number, key, err)
	}
	return &upload.Presigned{
		Method:    http.MethodPut,
		URL:       u.String(),
		Headers:   map[string]string{"Content-Length": length},
		ExpiresAt: expiresAt.Truncate(time.Millisecond),
	}, nil
}

// ListParts pages through ListObjectParts.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]upload.Part, error) {
	var parts []upload.Part
	marker := 0
	for {
		res, err := s.core().ListObjectParts(ctx, s.cfg.Bucket, key, uploadID, marker, 1000)
		if err != nil {
			return nil, fmt.Errorf("list parts of %s: %w", key, mapMultipartErr(err))
		}
		for _, p := range res.ObjectParts {
			parts = append(parts, upload.Part{Number: p.PartNumber, Size: p.Size, ETag: p.ETag})
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			return parts, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// CompleteMultipart sends CompleteMultipartUpload with the given ETags.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []upload.Part) error {
	cps := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		cps[i] = minio.CompletePart{PartNumber: p.Number, ETag: p.ETag}
	}
	if _, err := s.core().CompleteMultipartUpload(ctx, s.cfg.Bucket, key, uploadID, cps, minio.PutObjectOptions{}); err != nil {
		return fmt.Errorf("complete multipart upload %s: %w", key, mapMultipartErr(err))
	}
	return nil
}

// AbortMultipart aborts the upload; one already gone is not an error.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	err := s.core().AbortMultipartUpload(ctx, s.cfg.Bucket, key, uploadID)
	if err != nil && !errors.Is(mapMultipartErr(err), upload.ErrNoUpload) {
		return fmt.Errorf("abort multipart upload %s: %w", key, err)
	}
	return nil
}

// mapMultipartErr maps NoSuchUpload and InvalidPart to the upload errors.
func mapMultipartErr(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchUpload":
		return fmt.Errorf("%w (%v)", upload.ErrNoUpload, err)
	case "InvalidPart", "InvalidPartOrder":
		return fmt.Errorf("%w (%v)", upload.ErrPartChanged, err)
	}
	return err
}
