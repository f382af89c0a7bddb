package chatcore

import (
	"context"
	"time"
)

// UploadRequest is what a client declares before uploading.
type UploadRequest struct {
	Kind           AttachmentKind `json:"kind"`
	ContentType    string         `json:"content_type"`
	Size           int64          `json:"size"`
	Filename       string         `json:"filename"`
	ConversationID string         `json:"conversation_id,omitempty"`
}

// UploadTicket tells the client how to send the bytes straight to storage:
// in one request (Method, URL, Fields, Headers) or, above the multipart
// threshold, in parts of PartSize bytes, each PUT to its own URL (Parts;
// Method and URL are empty then).
type UploadTicket struct {
	Upload    *Attachment       `json:"upload"`
	UploadID  string            `json:"upload_id"`
	Method    string            `json:"method,omitempty"` // "POST" (form with Fields) or "PUT" (with Headers)
	URL       string            `json:"url,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	ExpiresAt time.Time         `json:"expires_at"`
	PartSize  int64             `json:"part_size,omitempty"`
	Parts     []UploadPart      `json:"parts,omitempty"`
}

// UploadPart is one part of a multipart upload: where to PUT it (URL,
// Headers, ExpiresAt) in a ticket, or what the store holds (Size) in an
// UploadStatus.
type UploadPart struct {
	Number    int               `json:"number"`
	URL       string            `json:"url,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	ExpiresAt time.Time         `json:"expires_at,omitzero"`
	Size      int64             `json:"size,omitempty"`
}

// UploadStatus is what GET /v1/uploads/{id} reports: for a pending
// multipart upload, the parts the store already holds with the size
// expected of them, and the numbers still to send (missing, or stored with
// another size).
type UploadStatus struct {
	Upload    *Attachment  `json:"upload"`
	UploadID  string       `json:"upload_id"`
	Multipart bool         `json:"multipart"`
	PartSize  int64        `json:"part_size,omitempty"`
	PartCount int          `json:"part_count,omitempty"`
	Parts     []UploadPart `json:"parts"`
	Missing   []int        `json:"missing"`
}

// UploadService is the media upload flow the HTTP API exposes. Implemented
// by package upload. Errors: EInvalid, EUnsupported, ETooLarge,
// ERateLimited (with RetryAfter), ENotFound, EUnprocessable.
type UploadService interface {
	CreateUpload(ctx context.Context, userID string, req UploadRequest) (*UploadTicket, error)
	// CompleteUpload verifies the stored object and hands it to workers; a
	// repeated call returns the same attachment.
	CompleteUpload(ctx context.Context, userID, uploadID string) (*Attachment, error)
	// UploadStatus lists what the store holds of a pending upload;
	// ENotFound unless userID created it.
	UploadStatus(ctx context.Context, userID, uploadID string) (*UploadStatus, error)
	// PartURLs presigns fresh URLs for the given parts of a pending
	// multipart upload (numbers in 1..part_count); EInvalid otherwise.
	PartURLs(ctx context.Context, userID, uploadID string, numbers []int) (*UploadTicket, error)
	// Attachment returns metadata; ENotFound unless userID may see it.
	Attachment(ctx context.Context, userID, id string) (*Attachment, error)
	// DownloadURL returns a short-lived presigned GET for a variant;
	// ENotFound unless userID may see it and the variant exists.
	DownloadURL(ctx context.Context, userID, id, variant string) (string, error)
}

// Job is a media processing task as admins see it.
type Job struct {
	Queue        string    `json:"queue"`
	TaskID       string    `json:"task_id"`
	AttachmentID string    `json:"attachment_id"`
	Kind         string    `json:"kind"`
	State        string    `json:"state"`
	Reason       string    `json:"reason,omitempty"` // code of the last failure: corrupt, storage, timeout…
	Error        string    `json:"error,omitempty"`  // short human message of the last failure (details: worker log)
	FailedAt     time.Time `json:"failed_at,omitzero"`
	Retried      int       `json:"retried"`
	MaxRetry     int       `json:"max_retry"`
}

// JobService lets admins see and requeue media jobs. Implemented by package
// workers. Errors: EInvalid (unknown queue or state), ENotFound.
type JobService interface {
	ListJobs(ctx context.Context, queue, state string, limit int) ([]Job, error)
	RequeueJob(ctx context.Context, queue, taskID string) error
	// RequeueAll requeues every task in state ("archived" or "retry") of
	// queue ("" = all queues) and returns how many.
	RequeueAll(ctx context.Context, queue, state string) (int, error)
}
