// Package s3 is the upload.ObjectStore adapter for any S3 service (AWS S3,
// MinIO, versitygw, Ceph, Garage...) through minio-go.
//
// Uploads are presigned POST policies: the policy pins the bucket, the key,
// the Content-Type and an exact content-length-range, so the S3 service
// itself refuses a body of another size or type, and expires with the ticket.
// Downloads are presigned GETs with a response-content-disposition.
//
//	store, err := s3.New(s3.Config{
//		Endpoint: "127.0.0.1:9000", Bucket: "parley", Region: "us-east-1",
//		AccessKey: key, SecretKey: secret,
//		PublicEndpoint: "https://media.example.com", // what phones can reach
//	})
//	err = store.EnsureBucket(ctx)
package s3
