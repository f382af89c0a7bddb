// Package upload is Parley's media upload flow: per-kind policy (limits,
// allowed content types, unguessable object keys, URL expiry), presigned
// uploads straight to object storage, verification on complete (real size,
// sniffed type), guarded download redirects, a per-user rate limit and daily
// quota, and a janitor for uploads never completed.
//
// What each kind accepts by default (content types, size limit) comes from
// the kind table, chatcore.MediaKinds (chatcore/mediakind.go); DefaultLimits
// reads it and Config.Limits may override it per kind.
//
// The HTTP handlers of the upload routes are not here: they are in
// chatcore/httpapi/uploads.go (handleCreateUpload, handleCompleteUpload,
// handleAttachment, handleDownload, routed in chatcore/httpapi/routes.go),
// which call the chatcore.UploadService this package implements. The
// attachment events that tell members a file is ready are sent by the
// workers (workers.Notify), not by this package.
//
// The root package holds the ObjectStore interface and the Service that
// implements chatcore.UploadService on top of a chatcore.Store and an
// ObjectStore. Object store adapters live in subpackages: s3 (any S3 service,
// via minio-go) and local (a directory on disk, with Parley serving the signed
// URLs itself, for `parley dev`). Both pass the storetest contract suite.
//
//	objects, _ := s3.New(s3.Config{Endpoint: "s3:9000", Bucket: "parley", ...})
//	svc, _ := upload.NewService(upload.Config{Store: store, Objects: objects, Enqueuer: jobs})
//	ticket, err := svc.CreateUpload(ctx, userID, chatcore.UploadRequest{Kind: "image", ...})
//	// the client POSTs the bytes to ticket.URL with ticket.Fields, then:
//	att, err := svc.CompleteUpload(ctx, userID, ticket.Upload.ID)
package upload
